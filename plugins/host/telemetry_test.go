package host_test

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/internal/telemetry/telemetrytest"
	"github.com/dagproject/dag/plugins/host"
)

// A traced plugin's calls are client spans under the caller's span,
// tagged with the plugin's name and digest; go-plugin's own streams are
// not traced.
func TestLaunchWithTelemetry(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	c, info := launch(t, "traced", host.WithTelemetry(tp, nil))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "activity")
	if _, err := c.Describe(ctx); err != nil {
		t.Fatal(err)
	}
	parent.End()
	c.Close()

	var calls int
	for _, s := range exp.GetSpans() {
		if s.Name == "activity" {
			continue
		}
		if !strings.HasPrefix(s.Name, "dag.plugin.v1.Backend/") {
			t.Errorf("unexpected span %s", s.Name)
			continue
		}
		calls++
		if s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s is not under the caller's span", s.Name)
		}
		name, _ := telemetrytest.StubAttr(s, telemetry.AttrPlugin)
		d, _ := telemetrytest.StubAttr(s, telemetry.AttrPluginDigest)
		if name.AsString() != "traced" || d.AsString() != info.Digest.String() {
			t.Errorf("%s: plugin %q digest %q, want traced %s", s.Name, name.AsString(), d.AsString(), info.Digest)
		}
	}
	if calls != 1 {
		t.Errorf("%d plugin call spans, want 1 (Describe)", calls)
	}
}

func TestWithTelemetryNeedsATracer(t *testing.T) {
	dir := t.TempDir()
	path := install(t, dir, "x")
	info := discoverOne(t, dir, "x")
	if _, err := host.Launch(context.Background(), path, info.Digest, host.WithTelemetry(nil, nil)); !errdefs.IsInvalidArgument(err) {
		t.Errorf("WithTelemetry(nil): %v, want InvalidArgument", err)
	}
}
