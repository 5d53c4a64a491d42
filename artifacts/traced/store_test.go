package traced_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/artifactstest"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/artifacts/traced"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/telemetry"
	"github.com/dagproject/dag/internal/telemetry/telemetrytest"
)

// The decorated store is still a store.
func TestConformance(t *testing.T) {
	artifactstest.TestStore(t, func(t *testing.T) artifactstest.Harness {
		root := filepath.Join(t.TempDir(), "store")
		s, err := fsstore.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewInMemoryExporter()))
		return artifactstest.Harness{
			// fs runs the 1 GiB stream itself; through the decorator a
			// smaller one exercises the same wrapped readers and writers.
			LargeSize: 64 << 20,
			Store:     traced.New(s, tp, nil),
			Corrupt: func(d digest.Digest, data []byte) error {
				p := filepath.Join(root, "blobs", d.Algorithm().String(), d.Encoded())
				if err := os.Chmod(p, 0o644); err != nil {
					return err
				}
				return os.WriteFile(p, data, 0o644)
			},
		}
	})
}

func TestKeepsStagingCleaner(t *testing.T) {
	s, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(artifacts.StagingCleaner); !ok {
		t.Skip("the fs store cleans no staging")
	}
	if _, ok := traced.New(s, noop.NewTracerProvider(), nil).(artifacts.StagingCleaner); !ok {
		t.Error("traced store hides the backend's StagingCleaner")
	}
}

func TestSpansAndMetrics(t *testing.T) {
	ctx := context.Background()
	backend, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	reader := sdkmetric.NewManualReader()
	in, err := telemetry.NewInstruments(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	s := traced.New(backend, tp, in)

	// Without a caller span, no spans: untraced commands stay quiet.
	data := bytes.Repeat([]byte("x"), 1000)
	d, err := artifacts.PutBytes(ctx, s, data)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d spans without a parent, want 0", n)
	}

	pctx, parent := tp.Tracer("test").Start(ctx, "activity")
	if _, err := artifacts.ReadAll(pctx, s, d, 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := artifacts.PutBytes(pctx, s, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRecord(pctx, "results/none"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetRecord of a missing record: %v", err)
	}
	parent.End()

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, sp := range spans {
		if sp.Name == "activity" {
			continue
		}
		if sp.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("span %s is not under the caller's span", sp.Name)
		}
		byName[sp.Name] = sp
	}
	open, ok := byName["store.open"]
	if !ok {
		t.Fatalf("no store.open span in %v", names(spans))
	}
	if v, _ := telemetrytest.StubAttr(open, telemetry.AttrBytes); v.AsInt64() != 1000 {
		t.Errorf("store.open bytes %v, want 1000", v.AsInt64())
	}
	if v, _ := telemetrytest.StubAttr(open, telemetry.AttrDigest); v.AsString() != d.String() {
		t.Errorf("store.open digest %q, want %s", v.AsString(), d)
	}
	write, ok := byName["store.write"]
	if !ok {
		t.Fatalf("no store.write span in %v", names(spans))
	}
	if v, _ := telemetrytest.StubAttr(write, telemetry.AttrBytes); v.AsInt64() != 3 {
		t.Errorf("store.write bytes %v, want 3", v.AsInt64())
	}
	if rec := byName["store.get_record"]; rec.Status.Code != 0 {
		t.Errorf("a missing record marked the span failed: %v", rec.Status)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	moved := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != telemetry.MetricStoreBytes {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				dir, _ := dp.Attributes.Value(telemetry.AttrDirection)
				moved[dir.AsString()] += dp.Value
			}
		}
	}
	// Bytes written: 1000 (untraced) + 3; read: 1000.
	if moved["write"] != 1003 || moved["read"] != 1000 {
		t.Errorf("bytes moved %v, want write 1003, read 1000", moved)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name)
	}
	return n
}
