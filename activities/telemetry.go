package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/study"
)

// observer records what activities do: attributes on the span Temporal's
// tracing interceptor starts for each activity, and dag's metrics. Its zero
// value records nothing.
type observer struct {
	tracer trace.TracerProvider
	meter  metric.MeterProvider
	in     *telemetry.Instruments
}

// WithTelemetry records with tp and mp: study, node, kind, cache key and
// outcome, plugin name and digest on each activity's span; the plugin's
// calls as spans under it, continued in the plugin process; and cache
// lookups, stage durations, plugin crashes and training throughput as
// metrics (docs/observability.md). Default: none.
func WithTelemetry(tp trace.TracerProvider, mp metric.MeterProvider) Option {
	return func(o *options) error {
		in, err := telemetry.NewInstruments(mp)
		if err != nil {
			return fmt.Errorf("activity metrics: %w", err)
		}
		o.observer = observer{tracer: tp, meter: mp, in: in}
		return nil
	}
}

// hostOptions are the Launch options that trace a plugin's calls.
func (o observer) hostOptions() []host.Option {
	if o.tracer == nil {
		return nil
	}
	return []host.Option{host.WithTelemetry(o.tracer, o.meter)}
}

// node tags the activity's span with the node it works on.
func (o observer) node(ctx context.Context, studyName string, n *study.Node, key digest.Digest) {
	trace.SpanFromContext(ctx).SetAttributes(
		telemetry.AttrStudy.String(studyName),
		telemetry.AttrNode.String(n.ID),
		telemetry.AttrKind.String(string(n.Kind)),
		telemetry.AttrKey.String(key.String()),
	)
}

// lookup records a cache lookup's outcome: err is GetResult's; other
// errors than NotFound are failures, not misses, and count as neither.
func (o observer) lookup(ctx context.Context, studyName string, n *study.Node, key digest.Digest, err error) {
	o.node(ctx, studyName, n, key)
	if err != nil && !errdefs.IsNotFound(err) {
		return
	}
	hit := err == nil
	outcome := telemetry.CacheMiss
	if hit {
		outcome = telemetry.CacheHit
	}
	trace.SpanFromContext(ctx).SetAttributes(telemetry.AttrCache.String(outcome))
	o.in.CacheLookup(ctx, string(n.Kind), hit)
}

// run records one execution of a node: how long it took, how it ended,
// and whether its plugin crashed.
func (o observer) run(ctx context.Context, studyName string, n *study.Node, key digest.Digest, info host.Info, started time.Time, err error) {
	o.node(ctx, studyName, n, key)
	span := trace.SpanFromContext(ctx)
	span.SetAttributes(telemetry.AttrCache.String(telemetry.CacheExecuted))
	if info.Name != "" {
		span.SetAttributes(telemetry.AttrPlugin.String(info.Name), telemetry.AttrPluginDigest.String(info.Digest.String()))
	}
	o.in.Stage(ctx, string(n.Kind), time.Since(started), err != nil)
	var exit *host.ExitError
	if errors.As(err, &exit) {
		o.in.PluginCrash(ctx, info.Name)
	}
}

// trainMetrics records the throughput a training plugin reports.
func (o observer) trainMetrics(ctx context.Context, plugin string, kind study.Kind, m map[string]float64) {
	if v, ok := m[plugins.MetricTokensPerSecond]; ok {
		o.in.TrainThroughput(ctx, plugin, string(kind), v)
	}
}
