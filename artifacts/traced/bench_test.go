package traced_test

import (
	"bytes"
	"context"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/artifacts/traced"
	"github.com/dagproject/dag/internal/telemetry"
)

// BenchmarkReadBlob compares reading a 64 KiB blob from the filesystem
// store as it is and decorated with the providers an unconfigured process
// has (the otel globals, no-ops): the decoration must cost nothing
// measurable.
//
//	go test -bench ReadBlob -run '^$' ./artifacts/traced
func BenchmarkReadBlob(b *testing.B) {
	ctx := context.Background()
	raw, err := fsstore.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	d, err := artifacts.PutBytes(ctx, raw, bytes.Repeat([]byte("0123456789abcdef"), 4096))
	if err != nil {
		b.Fatal(err)
	}
	in, err := telemetry.NewInstruments(otel.GetMeterProvider())
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    artifacts.Store
	}{{"raw", raw}, {"traced-noop", traced.New(raw, otel.GetTracerProvider(), in)}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := artifacts.ReadAll(ctx, c.s, d, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
