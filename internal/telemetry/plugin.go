package telemetry

import (
	"context"
	"fmt"
	"io"

	"go.opentelemetry.io/otel/trace"
)

// ForPlugin sets up tracing for a plugin process named service from the
// standard variables read through getenv (the plugin inherits the host's
// environment): spans are exported one by one as they end, because the
// host may kill a plugin right after its last call. The service name is
// service whatever OTEL_SERVICE_NAME says (that names the worker); the
// other resource attributes of the environment apply. Plugins export no
// metrics of their own; the host records what they report.
//
// It returns nil when tracing is off, which sdk.WithTracerProvider takes
// as "no tracing". A setup error is written to errw and tracing stays off:
// a plugin must run without its telemetry. stop flushes and must be
// called before the process exits.
func ForPlugin(ctx context.Context, service string, getenv func(string) string, errw io.Writer) (tp trace.TracerProvider, stop func()) {
	cfg := FromEnv(getenv)
	if !cfg.Traces {
		return nil, func() {}
	}
	p, err := Setup(ctx, Config{Service: service, KeepService: true, Traces: true, SyncExport: true})
	if err != nil {
		fmt.Fprintf(errw, "%s: tracing off: %v\n", service, err)
		return nil, func() {}
	}
	return p.Tracer, func() { _ = p.Shutdown(ctx) }
}
