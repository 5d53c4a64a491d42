package grpcadapter

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/dagproject/dag/plugins"
	pluginpb "github.com/dagproject/dag/plugins/proto"
)

// Handshake is the go-plugin handshake of dag plugins. The magic cookie is
// not a secret: it only stops a plugin binary from running as a program
// when started by hand.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  plugins.ProtocolVersion,
	MagicCookieKey:   "DAG_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "1aeafc68a2849f09046c85d89a1c2e42",
}

// PluginName is the single plugin a dag plugin binary serves.
const PluginName = "backend"

// MaxMessageBytes bounds one gRPC message either way. Batching keeps
// messages far below it; it exists so that a long requests batch fails
// with ResourceExhausted rather than with gRPC's 4 MiB default.
const MaxMessageBytes = 64 << 20

// PluginSets returns the versioned plugin sets for go-plugin's
// ClientConfig.VersionedPlugins or ServeConfig.VersionedPlugins. impl is
// nil on the host side.
func PluginSets(impl plugins.Plugin) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		plugins.ProtocolVersion: {PluginName: &GRPCPlugin{Impl: impl}},
	}
}

// GRPCPlugin is the go-plugin GRPCPlugin of the Backend service. Impl is
// served on the plugin side and unused on the host side.
type GRPCPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	Impl plugins.Plugin
}

// GRPCServer registers the server adapter of p.Impl.
func (p *GRPCPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pluginpb.RegisterBackendServer(s, NewServer(p.Impl))
	return nil
}

// GRPCClient returns the client adapter over conn, a plugins.Plugin.
func (p *GRPCPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return NewClient(conn), nil
}

var _ plugin.GRPCPlugin = (*GRPCPlugin)(nil)
