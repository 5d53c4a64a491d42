package telemetry

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// MeterName is the instrumentation scope of dag's own metrics.
const MeterName = "github.com/dagproject/dag"

// Metric names (Prometheus spells the dots as underscores and adds _total
// to counters and the unit to histograms; see docs/observability.md).
const (
	MetricCacheLookups   = "dag.cache.lookups"
	MetricStageDuration  = "dag.stage.duration"
	MetricStoreBytes     = "dag.store.transferred"
	MetricStoreDuration  = "dag.store.duration"
	MetricPluginCrashes  = "dag.plugin.crashes"
	MetricTrainTokensSec = "dag.train.tokens_per_second"
)

// Instruments are dag's metric instruments. A nil *Instruments records
// nothing, so code paths need not check whether telemetry is on.
type Instruments struct {
	cacheLookups  metric.Int64Counter
	stageDuration metric.Float64Histogram
	storeBytes    metric.Int64Counter
	storeDuration metric.Float64Histogram
	pluginCrashes metric.Int64Counter
	tokensPerSec  metric.Float64Gauge
}

// NewInstruments creates the instruments on mp. Creating them twice on
// one provider yields the same instruments.
func NewInstruments(mp metric.MeterProvider) (*Instruments, error) {
	m := mp.Meter(MeterName)
	var in Instruments
	var err error
	if in.cacheLookups, err = m.Int64Counter(MetricCacheLookups,
		metric.WithDescription("Cache lookups of nodes, by stage kind and outcome (hit, miss)."),
		metric.WithUnit("{lookup}")); err != nil {
		return nil, err
	}
	if in.stageDuration, err = m.Float64Histogram(MetricStageDuration,
		metric.WithDescription("Time to execute a node, by stage kind and outcome (executed, failed)."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.1, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 14400, 43200, 86400)); err != nil {
		return nil, err
	}
	if in.storeBytes, err = m.Int64Counter(MetricStoreBytes,
		metric.WithDescription("Bytes read from and written to the artifact store."),
		metric.WithUnit("By")); err != nil {
		return nil, err
	}
	if in.storeDuration, err = m.Float64Histogram(MetricStoreDuration,
		metric.WithDescription("Latency of artifact store operations, by operation."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300)); err != nil {
		return nil, err
	}
	if in.pluginCrashes, err = m.Int64Counter(MetricPluginCrashes,
		metric.WithDescription("Plugin processes that died or stopped answering during a call."),
		metric.WithUnit("{crash}")); err != nil {
		return nil, err
	}
	if in.tokensPerSec, err = m.Float64Gauge(MetricTrainTokensSec,
		metric.WithDescription("Training throughput a plugin last reported, by plugin and stage kind."),
		metric.WithUnit("{token}/s")); err != nil {
		return nil, err
	}
	return &in, nil
}

// CacheLookup counts one lookup of a node of kind; hit says whether it
// was cached.
func (in *Instruments) CacheLookup(ctx context.Context, kind string, hit bool) {
	if in == nil {
		return
	}
	outcome := CacheMiss
	if hit {
		outcome = CacheHit
	}
	in.cacheLookups.Add(ctx, 1, metric.WithAttributes(AttrKind.String(kind), AttrCache.String(outcome)))
}

// Stage records how long executing a node of kind took; failed says
// whether it ended in an error.
func (in *Instruments) Stage(ctx context.Context, kind string, d time.Duration, failed bool) {
	if in == nil {
		return
	}
	outcome := "executed"
	if failed {
		outcome = "failed"
	}
	in.stageDuration.Record(ctx, d.Seconds(), metric.WithAttributes(AttrKind.String(kind), AttrOutcome.String(outcome)))
}

// StoreOp records one store operation's latency and the bytes it moved
// in direction ("read" or "write"; bytes <= 0 records no bytes).
func (in *Instruments) StoreOp(ctx context.Context, op, direction string, d time.Duration, bytes int64) {
	if in == nil {
		return
	}
	in.storeDuration.Record(ctx, d.Seconds(), metric.WithAttributes(AttrOp.String(op)))
	if bytes > 0 {
		in.storeBytes.Add(ctx, bytes, metric.WithAttributes(AttrDirection.String(direction)))
	}
}

// PluginCrash counts one crash of plugin.
func (in *Instruments) PluginCrash(ctx context.Context, plugin string) {
	if in == nil {
		return
	}
	in.pluginCrashes.Add(ctx, 1, metric.WithAttributes(AttrPlugin.String(plugin)))
}

// TrainThroughput records a training plugin's reported tokens per second.
func (in *Instruments) TrainThroughput(ctx context.Context, plugin, kind string, tokensPerSec float64) {
	if in == nil {
		return
	}
	in.tokensPerSec.Record(ctx, tokensPerSec, metric.WithAttributes(AttrPlugin.String(plugin), AttrKind.String(kind)))
}
