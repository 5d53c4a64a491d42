package sdktest

import (
	"testing"

	"github.com/hashicorp/go-plugin"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/grpcadapter"
)

// Connect serves impl over an in-process gRPC connection (go-plugin's
// TestPluginGRPCConn, no TLS) and returns a client for it, the same client
// adapter the host uses. Both ends are closed when t ends.
func Connect(t testing.TB, impl plugins.Plugin) plugins.Plugin {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{
		grpcadapter.PluginName: &grpcadapter.GRPCPlugin{Impl: impl},
	})
	t.Cleanup(func() {
		// Stop the server first: closing the client first would stop it
		// too (go-plugin's Shutdown call), racing with this Stop.
		server.Stop()
		client.Close()
	})
	raw, err := client.Dispense(grpcadapter.PluginName)
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	return raw.(plugins.Plugin)
}
