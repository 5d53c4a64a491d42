package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/internal/telemetry/telemetrytest"
)

func TestFromEnv(t *testing.T) {
	cases := []struct {
		env             map[string]string
		traces, metrics bool
	}{
		{env: nil},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4317"}, traces: true, metrics: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x:4317"}, traces: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://x:4317"}, metrics: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4317", "OTEL_METRICS_EXPORTER": "none"}, traces: true},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://x:4317", "OTEL_SDK_DISABLED": "true"}},
	}
	for _, c := range cases {
		got := telemetry.FromEnv(func(k string) string { return c.env[k] })
		if got.Traces != c.traces || got.Metrics != c.metrics {
			t.Errorf("%v: traces %v metrics %v, want %v %v", c.env, got.Traces, got.Metrics, c.traces, c.metrics)
		}
	}
}

// An unconfigured process gets the otel globals and starts nothing.
func TestSetupNothingIsDefault(t *testing.T) {
	p, err := telemetry.Setup(context.Background(), telemetry.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Tracer != otel.GetTracerProvider() || p.Meter != otel.GetMeterProvider() {
		t.Error("unconfigured Setup did not return the global providers")
	}
	if p.MetricsAddr != "" {
		t.Errorf("MetricsAddr %q, want none", p.MetricsAddr)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOTLPExport(t *testing.T) {
	col := telemetrytest.StartCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint)
	ctx := context.Background()
	cfg := telemetry.FromEnv(func(k string) string {
		if k == "OTEL_EXPORTER_OTLP_ENDPOINT" {
			return col.Endpoint
		}
		return ""
	})
	cfg.Service = "dag-test"
	p, err := telemetry.Setup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, span := p.Tracer.Tracer("test").Start(ctx, "work")
	span.End()
	in, err := telemetry.NewInstruments(p.Meter)
	if err != nil {
		t.Fatal(err)
	}
	in.CacheLookup(ctx, "sft", true)
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	spans := col.Spans()
	if len(spans) != 1 || spans[0].GetName() != "work" || spans[0].Service != "dag-test" {
		t.Fatalf("received %v, want one span \"work\" from dag-test", spans)
	}
	if col.MetricRequests() == 0 {
		t.Error("no metrics received")
	}
}

func TestPrometheusEndpoint(t *testing.T) {
	ctx := context.Background()
	p, err := telemetry.Setup(ctx, telemetry.Config{MetricsAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(ctx)
	in, err := telemetry.NewInstruments(p.Meter)
	if err != nil {
		t.Fatal(err)
	}
	in.CacheLookup(ctx, "sft", true)
	in.CacheLookup(ctx, "sft", false)
	in.StoreOp(ctx, "write", "write", time.Millisecond, 42)
	body := scrape(t, p.MetricsAddr)
	for _, want := range []string{
		`dag_cache_lookups_total{dag_cache="hit",dag_kind="sft"`,
		`dag_cache_lookups_total{dag_cache="miss",dag_kind="sft"`,
		`dag_store_transferred_bytes_total{dag_direction="write"`,
		`dag_store_duration_seconds_bucket{dag_store_op="write"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in\n%s", want, body)
		}
	}
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
