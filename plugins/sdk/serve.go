package sdk

import (
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/grpcadapter"
)

// Serve serves impl as a dag plugin and returns only when the host has
// shut the plugin down; the process should then exit. Run by hand (without
// the host's magic cookie) it prints that the binary is a plugin and exits
// with status 1.
//
// go-plugin's own log lines go to Stderr as JSON at level warn and above.
//
// Options that fail are reported on Stderr and end the process with
// status 1.
func Serve(impl plugins.Plugin, opts ...Option) {
	var o serveOptions
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			fmt.Fprintf(Stderr, "plugin: %v\n", err)
			os.Exit(1)
		}
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  grpcadapter.Handshake,
		VersionedPlugins: grpcadapter.PluginSets(o.wrap(impl)),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			opts = append(opts, o.serverOptions()...)
			opts = append(opts,
				grpc.MaxRecvMsgSize(grpcadapter.MaxMessageBytes),
				grpc.MaxSendMsgSize(grpcadapter.MaxMessageBytes))
			return grpc.NewServer(opts...)
		},
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "plugin",
			Level:      hclog.Warn,
			Output:     Stderr,
			JSONFormat: true,
		}),
	})
}
