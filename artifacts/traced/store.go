package traced

import (
	"context"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/telemetry"
)

// TracerName is the instrumentation scope of the store's spans.
const TracerName = "github.com/dagproject/dag/artifacts"

// New returns s with spans from tp and metrics into in (nil records no
// metrics). The result implements artifacts.StagingCleaner exactly when s
// does, so garbage collection sees the same store.
func New(s artifacts.Store, tp trace.TracerProvider, in *telemetry.Instruments) artifacts.Store {
	t := &store{s: s, tracer: tp.Tracer(TracerName), in: in}
	if sc, ok := s.(artifacts.StagingCleaner); ok {
		return &cleaningStore{store: t, sc: sc}
	}
	return t
}

type store struct {
	s      artifacts.Store
	tracer trace.Tracer
	in     *telemetry.Instruments
}

// op is one store operation in flight.
type op struct {
	name  string
	span  trace.Span // nil when the caller has no span
	start time.Time
	st    *store
}

func (s *store) begin(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, *op) {
	o := &op{name: name, start: time.Now(), st: s}
	if trace.SpanContextFromContext(ctx).IsValid() {
		ctx, o.span = s.tracer.Start(ctx, "store."+name, trace.WithAttributes(append(attrs, telemetry.AttrOp.String(name))...))
	}
	return ctx, o
}

// end finishes the operation; direction and bytes describe what it moved.
// NotFound is an answer, not a failure: cache misses look stores up.
func (o *op) end(ctx context.Context, err error, direction string, bytes int64, attrs ...attribute.KeyValue) {
	o.st.in.StoreOp(ctx, o.name, direction, time.Since(o.start), bytes)
	if o.span == nil {
		return
	}
	if bytes > 0 {
		attrs = append(attrs, telemetry.AttrBytes.Int64(bytes))
	}
	o.span.SetAttributes(attrs...)
	switch {
	case err == nil:
	case errdefs.IsNotFound(err):
		o.span.SetAttributes(attribute.Bool("dag.found", false))
	default:
		o.span.RecordError(err)
		o.span.SetStatus(codes.Error, err.Error())
	}
	o.span.End()
}

func (s *store) Open(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	ctx, o := s.begin(ctx, "open", telemetry.AttrDigest.String(d.String()))
	rc, err := s.s.Open(ctx, d)
	if err != nil {
		o.end(ctx, err, "read", 0)
		return nil, err
	}
	return &reader{rc: rc, ctx: ctx, o: o}, nil
}

func (s *store) Stat(ctx context.Context, d digest.Digest) (artifacts.Info, error) {
	ctx, o := s.begin(ctx, "stat", telemetry.AttrDigest.String(d.String()))
	info, err := s.s.Stat(ctx, d)
	o.end(ctx, err, "", 0)
	return info, err
}

func (s *store) Writer(ctx context.Context) (artifacts.Writer, error) {
	ctx, o := s.begin(ctx, "write")
	w, err := s.s.Writer(ctx)
	if err != nil {
		o.end(ctx, err, "write", 0)
		return nil, err
	}
	return &writer{w: w, ctx: ctx, o: o}, nil
}

func (s *store) Walk(ctx context.Context, fn func(artifacts.Info) error) error {
	ctx, o := s.begin(ctx, "walk")
	err := s.s.Walk(ctx, fn)
	o.end(ctx, err, "", 0)
	return err
}

func (s *store) Delete(ctx context.Context, d digest.Digest) error {
	ctx, o := s.begin(ctx, "delete", telemetry.AttrDigest.String(d.String()))
	err := s.s.Delete(ctx, d)
	o.end(ctx, err, "", 0)
	return err
}

func (s *store) GetRecord(ctx context.Context, name string) ([]byte, error) {
	ctx, o := s.begin(ctx, "get_record", telemetry.AttrRecord.String(name))
	b, err := s.s.GetRecord(ctx, name)
	o.end(ctx, err, "read", int64(len(b)))
	return b, err
}

func (s *store) PutRecord(ctx context.Context, name string, data []byte) error {
	ctx, o := s.begin(ctx, "put_record", telemetry.AttrRecord.String(name))
	err := s.s.PutRecord(ctx, name, data)
	var n int64
	if err == nil {
		n = int64(len(data))
	}
	o.end(ctx, err, "write", n)
	return err
}

func (s *store) DeleteRecord(ctx context.Context, name string) error {
	ctx, o := s.begin(ctx, "delete_record", telemetry.AttrRecord.String(name))
	err := s.s.DeleteRecord(ctx, name)
	o.end(ctx, err, "", 0)
	return err
}

func (s *store) WalkRecords(ctx context.Context, prefix string, fn func(name string) error) error {
	ctx, o := s.begin(ctx, "walk_records", telemetry.AttrRecord.String(prefix))
	err := s.s.WalkRecords(ctx, prefix, fn)
	o.end(ctx, err, "", 0)
	return err
}

// cleaningStore is a store whose backend also cleans staging.
type cleaningStore struct {
	*store
	sc artifacts.StagingCleaner
}

func (s *cleaningStore) CleanStaging(ctx context.Context, cutoff time.Time, dryRun bool) (int, int64, error) {
	ctx, o := s.begin(ctx, "clean_staging", attribute.Bool("dag.dry_run", dryRun))
	n, bytes, err := s.sc.CleanStaging(ctx, cutoff, dryRun)
	o.end(ctx, err, "", 0, attribute.Int("dag.items", n))
	return n, bytes, err
}

var (
	_ artifacts.Store          = (*store)(nil)
	_ artifacts.StagingCleaner = (*cleaningStore)(nil)
)
