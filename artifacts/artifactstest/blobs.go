package artifactstest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
)

func testRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	wantBlobs(t, s) // a fresh store is empty

	var ds []digest.Digest
	blobs := map[digest.Digest][]byte{}
	for i, n := range []int{0, 1, 1000, 1<<20 + 3} {
		b := randBytes(uint64(100+i), n)
		d := putBytes(t, s, b)
		ds = append(ds, d)
		blobs[d] = b
	}
	for d, b := range blobs {
		info, err := s.Stat(ctx, d)
		noErr(t, err)
		if info.Digest != d || info.Size != int64(len(b)) {
			t.Fatalf("Stat(%s) = %+v, want size %d", d, info, len(b))
		}
		wantBlob(t, s, d, b)
		got, err := artifacts.ReadAll(ctx, s, d, int64(len(b)))
		noErr(t, err)
		if !bytes.Equal(got, b) {
			t.Fatalf("ReadAll(%s) differs", d)
		}
		if len(b) > 0 {
			_, err := artifacts.ReadAll(ctx, s, d, int64(len(b)-1))
			wantErr(t, err, isFailedPrecondition, "FailedPrecondition")
		}
	}
	wantBlobs(t, s, ds...)

	// Putting the same bytes again is fine.
	putBytes(t, s, blobs[ds[2]])
	wantBlobs(t, s, ds...)

	// Walk stops at fn's first error and returns it.
	stop := errors.New("stop")
	calls := 0
	err := s.Walk(ctx, func(artifacts.Info) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Walk with a failing fn = %v after %d calls, want stop after 1", err, calls)
	}

	// Delete.
	noErr(t, s.Delete(ctx, ds[1]))
	_, err = s.Stat(ctx, ds[1])
	wantErr(t, err, isNotFound, "NotFound")
	_, err = s.Open(ctx, ds[1])
	wantErr(t, err, isNotFound, "NotFound")
	wantErr(t, s.Delete(ctx, ds[1]), isNotFound, "NotFound")
	wantBlobs(t, s, ds[0], ds[2], ds[3])
	wantBlob(t, s, ds[2], blobs[ds[2]])

	// Unknown and invalid digests.
	missing := digest.FromString("never stored")
	_, err = s.Stat(ctx, missing)
	wantErr(t, err, isNotFound, "NotFound")
	_, err = s.Open(ctx, missing)
	wantErr(t, err, isNotFound, "NotFound")
	_, err = artifacts.ReadAll(ctx, s, missing, 10)
	wantErr(t, err, isNotFound, "NotFound")
	for _, bad := range []digest.Digest{"", "sha256:xyz", "nonsense", "sha256:" + digest.Digest(bytes.Repeat([]byte("A"), 64))} {
		_, err = s.Stat(ctx, bad)
		wantErr(t, err, isInvalidArgument, "InvalidArgument")
		_, err = s.Open(ctx, bad)
		wantErr(t, err, isInvalidArgument, "InvalidArgument")
		wantErr(t, s.Delete(ctx, bad), isInvalidArgument, "InvalidArgument")
	}
}

func testCommitMismatch(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	b := randBytes(200, 5000)
	want := digest.FromBytes(b)

	commit := func(size int64, expected digest.Digest) error {
		t.Helper()
		w, err := s.Writer(ctx)
		noErr(t, err)
		defer w.Close()
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
		if w.Digest() != want {
			t.Fatalf("Writer.Digest = %s, want %s", w.Digest(), want)
		}
		err = w.Commit(ctx, size, expected)
		noErr(t, w.Close()) // a no-op after Commit, whatever it returned
		return err
	}
	wantErr(t, commit(int64(len(b))+1, ""), isFailedPrecondition, "FailedPrecondition")
	wantErr(t, commit(int64(len(b))-1, want), isFailedPrecondition, "FailedPrecondition")
	wantErr(t, commit(int64(len(b)), digest.FromString("other")), isFailedPrecondition, "FailedPrecondition")
	wantErr(t, commit(-1, digest.FromString("other")), isFailedPrecondition, "FailedPrecondition")
	_, err := artifacts.Put(ctx, s, bytes.NewReader(b), int64(len(b)), digest.FromString("other"))
	wantErr(t, err, isFailedPrecondition, "FailedPrecondition")
	_, err = artifacts.Put(ctx, s, bytes.NewReader(b), 1, "")
	wantErr(t, err, isFailedPrecondition, "FailedPrecondition")
	_, err = artifacts.Put(ctx, s, bytes.NewReader(b), -1, "sha256:bad")
	wantErr(t, err, isInvalidArgument, "InvalidArgument")
	_, err = s.Stat(ctx, want)
	wantErr(t, err, isNotFound, "NotFound")
	wantBlobs(t, s)

	// Skipped checks, then the same blob again.
	noErr(t, commit(-1, ""))
	wantBlob(t, s, want, b)
	wantErr(t, commit(int64(len(b)), want), isAlreadyExists, "AlreadyExists")
	d, err := artifacts.Put(ctx, s, bytes.NewReader(b), int64(len(b)), want)
	noErr(t, err)
	if d != want {
		t.Fatalf("Put = %s, want %s", d, want)
	}
	wantBlobs(t, s, want)
}

// failingReader returns its bytes, then err.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// cancelReader cancels its context after its first read.
type cancelReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.cancel()
	return n, err
}

func testInterrupted(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	b := randBytes(300, 3<<20)
	d := digest.FromBytes(b)

	w, err := s.Writer(ctx)
	noErr(t, err)
	if _, err := w.Write(b[:len(b)/2]); err != nil {
		t.Fatal(err)
	}
	noErr(t, w.Close())
	noErr(t, w.Close()) // twice is fine
	wantBlobs(t, s)

	// A source that fails mid-stream.
	boom := errors.New("source failed")
	_, err = artifacts.Put(ctx, s, &failingReader{r: bytes.NewReader(b[:len(b)/2]), err: boom}, int64(len(b)), d)
	if !errors.Is(err, boom) {
		t.Fatalf("Put with a failing source = %v, want the source's error", err)
	}
	wantBlobs(t, s)

	// A context cancelled mid-stream.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = artifacts.Put(cctx, s, &cancelReader{r: bytes.NewReader(b), cancel: cancel}, int64(len(b)), d)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v, want context.Canceled", err)
	}
	wantBlobs(t, s)
	_, err = s.Stat(ctx, d)
	wantErr(t, err, isNotFound, "NotFound")

	// The store still works afterwards.
	putBytes(t, s, b)
	wantBlobs(t, s, d)
}

func testConcurrentWriters(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	b := randBytes(400, 2<<20+17)
	want := digest.FromBytes(b)
	const writers = 16
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			if i%2 == 0 { // through Put
				_, errs[i] = artifacts.Put(ctx, s, bytes.NewReader(b), int64(len(b)), want)
				return
			}
			w, err := s.Writer(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			defer w.Close()
			for off, step := 0, 1000+i*997; off < len(b); off += step {
				if _, err := w.Write(b[off:min(off+step, len(b))]); err != nil {
					errs[i] = err
					return
				}
			}
			if err := w.Commit(ctx, int64(len(b)), want); err != nil && !isAlreadyExists(err) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	wantBlob(t, s, want, b)
	wantBlobs(t, s, want)
}
