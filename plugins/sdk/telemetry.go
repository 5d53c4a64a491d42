package sdk

import (
	"context"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/plugins"
	pluginpb "github.com/dagproject/dag/plugins/proto"
)

// TracerName is the instrumentation scope of the SDK's spans.
const TracerName = "github.com/dagproject/dag/plugins/sdk"

// Option configures Serve.
type Option func(*serveOptions) error

type serveOptions struct {
	tracer trace.TracerProvider
}

// WithTracerProvider records spans with tp: a server span per call from
// the host, joined to the host's trace through gRPC metadata, and under it
// a "plugin.train" or "plugin.score" span around the implementation, in
// which StartSpan adds phases. After each Train and Score the provider is
// flushed when it can be (it has a ForceFlush method, as the OpenTelemetry
// SDK's has), because the host may kill the plugin as soon as the call
// returns. A nil tp leaves tracing off. Default: no tracing.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *serveOptions) error {
		o.tracer = tp
		return nil
	}
}

// StartSpan starts a span named name under ctx's span, with the tracer
// provider that span came from: a phase of a Train or Score call (load,
// steps, save). Without tracing it returns a span that records nothing.
// The caller must End it.
func StartSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	tp := trace.SpanFromContext(ctx).TracerProvider()
	return tp.Tracer(TracerName).Start(ctx, name, trace.WithAttributes(attrs...))
}

var backendPrefix = "/" + pluginpb.Backend_ServiceDesc.ServiceName + "/"

// serverOptions are the gRPC options tracing adds.
func (o serveOptions) serverOptions() []grpc.ServerOption {
	if o.tracer == nil {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(
		otelgrpc.WithTracerProvider(o.tracer),
		otelgrpc.WithPropagators(telemetry.Propagator()),
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
			return strings.HasPrefix(info.FullMethodName, backendPrefix)
		}),
	))}
}

// wrap returns impl with spans around Train and Score.
func (o serveOptions) wrap(impl plugins.Plugin) plugins.Plugin {
	if o.tracer == nil {
		return impl
	}
	t := &tracedPlugin{Plugin: impl, tracer: o.tracer.Tracer(TracerName)}
	if f, ok := o.tracer.(interface{ ForceFlush(context.Context) error }); ok {
		t.flush = f.ForceFlush
	}
	return t
}

// tracedPlugin records a span per Train and Score call.
type tracedPlugin struct {
	plugins.Plugin
	tracer trace.Tracer
	flush  func(context.Context) error
}

func (t *tracedPlugin) Train(ctx context.Context, req plugins.TrainRequest, ev plugins.Emitter) (plugins.TrainResult, error) {
	ctx, span := t.tracer.Start(ctx, "plugin.train", trace.WithAttributes(
		telemetry.AttrKind.String(string(req.Kind)),
		attribute.Bool("dag.resumed", req.Inputs[plugins.InputResume] != ""),
	))
	res, err := t.Plugin.Train(ctx, req, plugins.EmitterFunc(func(ctx context.Context, e plugins.Event) error {
		if e.Type == plugins.EventCheckpoint {
			span.AddEvent("checkpoint", trace.WithAttributes(attribute.Int64("dag.step", e.Step)))
		}
		return ev.Emit(ctx, e)
	}))
	span.SetAttributes(attribute.Int64("dag.step", res.Step))
	for name, v := range res.Metrics {
		span.SetAttributes(attribute.Float64("dag.metric."+name, v))
	}
	t.end(ctx, span, err)
	return res, err
}

func (t *tracedPlugin) Score(ctx context.Context, req plugins.ScoreRequest) (plugins.ScoreResponse, error) {
	ctx, span := t.tracer.Start(ctx, "plugin.score", trace.WithAttributes(attribute.Bool("dag.file_mode", req.FileMode())))
	res, err := t.Plugin.Score(ctx, req)
	span.SetAttributes(attribute.Int("dag.requests", res.Count))
	t.end(ctx, span, err)
	return res, err
}

func (t *tracedPlugin) end(ctx context.Context, span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
	if t.flush != nil {
		// Best effort: a span that cannot be exported must not fail the
		// stage whose result is ready.
		_ = t.flush(context.WithoutCancel(ctx))
	}
}
