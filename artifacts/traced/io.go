package traced

import (
	"context"
	"io"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/telemetry"
)

// reader counts the bytes read and ends the open span on Close.
type reader struct {
	rc  io.ReadCloser
	ctx context.Context // the span's context, for recording at Close
	o   *op
	n   int64
	err error // the first error other than EOF: a failed verification

	once sync.Once
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.n += int64(n)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

func (r *reader) Close() error {
	err := r.rc.Close()
	r.once.Do(func() { r.o.end(r.ctx, r.err, "read", r.n) })
	return err
}

// writer counts the bytes written and ends the write span at Commit, or
// at Close for an abandoned write.
type writer struct {
	w   artifacts.Writer
	ctx context.Context
	o   *op
	n   int64

	once sync.Once
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *writer) Digest() digest.Digest { return w.w.Digest() }

// Commit records the bytes as moved only when they were published, or
// were already there (AlreadyExists, which callers treat as success).
func (w *writer) Commit(ctx context.Context, size int64, expected digest.Digest) error {
	d := w.w.Digest()
	err := w.w.Commit(ctx, size, expected)
	w.once.Do(func() {
		var n int64
		if err == nil {
			n = w.n
		}
		w.o.end(w.ctx, ignoreExists(err), "write", n, telemetry.AttrDigest.String(d.String()))
	})
	return err
}

func (w *writer) Close() error {
	err := w.w.Close()
	w.once.Do(func() { w.o.end(w.ctx, nil, "write", 0) })
	return err
}

func ignoreExists(err error) error {
	if errdefs.IsAlreadyExists(err) {
		return nil
	}
	return err
}

var _ artifacts.Writer = (*writer)(nil)
