package host

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/telemetry"
	pluginpb "github.com/dagproject/dag/plugins/proto"
)

type telemetryOptions struct {
	tracer trace.TracerProvider
	meter  metric.MeterProvider
}

// WithTelemetry traces a launched plugin's calls with tp: a client span per
// Describe, Train and Score carrying the plugin's name and digest, whose
// context travels to the plugin in gRPC metadata (W3C trace context), so
// spans the plugin records join the caller's trace. mp receives the RPC
// metrics (nil: none). go-plugin's own streams (stdio, broker, shutdown)
// are not traced. Launch only. Default: no tracing.
func WithTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) Option {
	return func(o *options) error {
		if tp == nil {
			return fmt.Errorf("plugin telemetry: no tracer provider: %w", errdefs.ErrInvalidArgument)
		}
		if mp == nil {
			mp = noop.NewMeterProvider()
		}
		o.telemetry = telemetryOptions{tracer: tp, meter: mp}
		return nil
	}
}

var backendPrefix = "/" + pluginpb.Backend_ServiceDesc.ServiceName + "/"

func (t telemetryOptions) dialOptions(name string, d digest.Digest) []grpc.DialOption {
	if t.tracer == nil {
		return nil
	}
	opts := []otelgrpc.Option{
		otelgrpc.WithTracerProvider(t.tracer),
		otelgrpc.WithPropagators(telemetry.Propagator()),
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
			return strings.HasPrefix(info.FullMethodName, backendPrefix)
		}),
		otelgrpc.WithSpanAttributes(telemetry.AttrPlugin.String(name), telemetry.AttrPluginDigest.String(d.String())),
	}
	opts = append(opts, otelgrpc.WithMeterProvider(t.meter))
	return []grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(opts...))}
}
