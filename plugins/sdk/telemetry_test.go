package sdk

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dagproject/dag/plugins"
)

// fakeTrainer checkpoints once and records a phase span.
type fakeTrainer struct{ plugins.Plugin }

func (fakeTrainer) Train(ctx context.Context, req plugins.TrainRequest, ev plugins.Emitter) (plugins.TrainResult, error) {
	_, span := StartSpan(ctx, "steps")
	span.End()
	if err := ev.Emit(ctx, plugins.CheckpointEvent("/tmp/ck", 2)); err != nil {
		return plugins.TrainResult{}, err
	}
	return plugins.TrainResult{Step: 4, Metrics: map[string]float64{plugins.MetricLoss: 1.5}}, nil
}

func TestTracedTrain(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp)) // only a flush exports
	var o serveOptions
	if err := WithTracerProvider(tp)(&o); err != nil {
		t.Fatal(err)
	}
	p := o.wrap(fakeTrainer{})
	var got []plugins.EventType
	res, err := p.Train(context.Background(), plugins.TrainRequest{Kind: plugins.KindSFT}, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		got = append(got, e.Type)
		return nil
	}))
	if err != nil || res.Step != 4 {
		t.Fatalf("Train: %v, %+v", err, res)
	}
	if len(got) != 1 || got[0] != plugins.EventCheckpoint {
		t.Errorf("events %v, want the checkpoint passed on", got)
	}
	spans := exp.GetSpans() // exported without Shutdown: Train flushed
	if len(spans) != 2 {
		t.Fatalf("%d spans exported after Train, want 2 (steps, plugin.train)", len(spans))
	}
	phase, train := spans[0], spans[1]
	if phase.Name != "steps" || train.Name != "plugin.train" || phase.Parent.SpanID() != train.SpanContext.SpanID() {
		t.Errorf("spans %s (parent %s), %s (%s)", phase.Name, phase.Parent.SpanID(), train.Name, train.SpanContext.SpanID())
	}
	if len(train.Events) != 1 || train.Events[0].Name != "checkpoint" {
		t.Errorf("plugin.train events %v, want one checkpoint", train.Events)
	}
}

// Without a tracer provider nothing is wrapped.
func TestUntracedIsUnwrapped(t *testing.T) {
	var o serveOptions
	if err := WithTracerProvider(nil)(&o); err != nil {
		t.Fatal(err)
	}
	impl := fakeTrainer{}
	if o.wrap(impl) != plugins.Plugin(impl) || o.serverOptions() != nil {
		t.Error("a nil tracer provider still traces")
	}
}
