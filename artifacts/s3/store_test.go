package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/artifactstest"
	"github.com/dagproject/dag/artifacts/s3/s3test"
	"github.com/dagproject/dag/errdefs"
)

// openTest opens a store in a new bucket of srv under a prefix.
func openTest(t testing.TB, srv *s3test.Server, opts ...Option) (*store, string) {
	t.Helper()
	bucket := srv.NewBucket(t)
	opts = append([]Option{WithCredentials(srv.AccessKey, srv.SecretKey, ""), WithPrefix("cache/v1")}, opts...)
	s, err := open(context.Background(), srv.Endpoint, bucket, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s, bucket
}

// corruptor overwrites a committed blob's object out of band.
func corruptor(t testing.TB, srv *s3test.Server, s *store) func(d digest.Digest, data []byte) error {
	c := srv.Client(t)
	return func(d digest.Digest, data []byte) error {
		key, err := s.blobKey(d)
		if err != nil {
			return err
		}
		_, err = c.PutObject(context.Background(), s.bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{})
		return err
	}
}

func TestConformance(t *testing.T) {
	srv := s3test.Start(t)
	artifactstest.TestStore(t, func(t *testing.T) artifactstest.Harness {
		s, _ := openTest(t, srv)
		t.Cleanup(func() { wantNoStaging(t, s) })
		return artifactstest.Harness{Store: s, Corrupt: corruptor(t, srv, s)}
	})
}

// wantNoStaging fails if ingest/ holds objects or unfinished uploads.
func wantNoStaging(t *testing.T, s *store) {
	t.Helper()
	n, _, err := s.CleanStaging(context.Background(), time.Now().Add(time.Hour), true)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d staged objects or uploads left behind", n)
	}
}

// Multipart writes with small parts: round trip, abandoned and failed
// writes leave nothing, concurrent identical writes are harmless.
func TestMultipart(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	s, _ := openTest(t, srv, WithPartSize(5<<20), WithConcurrency(2))
	b := make([]byte, 12<<20+5)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	want := digest.FromBytes(b)

	// Abandoned after two parts were sent.
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(b[:11<<20]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	wantNoStaging(t, s)

	// A digest mismatch publishes nothing.
	_, err = artifacts.Put(ctx, s, bytes.NewReader(b), int64(len(b)), digest.FromString("x"))
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Put with a wrong digest = %v, want FailedPrecondition", err)
	}
	if _, err := s.Stat(ctx, want); !errdefs.IsNotFound(err) {
		t.Fatalf("Stat after a failed Put = %v, want NotFound", err)
	}
	wantNoStaging(t, s)

	// Concurrent identical writes.
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := artifacts.Put(ctx, s, bytes.NewReader(b), int64(len(b)), want)
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, err := artifacts.ReadAll(ctx, s, want, int64(len(b)))
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("ReadAll = %d bytes, %v", len(got), err)
	}
	// Again, when present: AlreadyExists from Commit.
	w, err = s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Commit(ctx, int64(len(b)), want); !errdefs.IsAlreadyExists(err) {
		t.Fatalf("Commit of a present blob = %v, want AlreadyExists", err)
	}
	wantNoStaging(t, s)
}

// CleanStaging removes old staged objects and unfinished uploads only.
func TestCleanStaging(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	s, _ := openTest(t, srv, WithPartSize(5<<20))
	w, err := s.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 6<<20)) // starts a multipart upload; never committed
	ww := w.(*writer)
	ww.wg.Wait()
	if _, err := s.core.PutObject(ctx, s.bucket, s.opts.prefix+ingestDir+"leftover", bytes.NewReader([]byte("x")), 1, "", "", minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.CleanStaging(ctx, time.Now().Add(-time.Hour), false); err != nil || n != 0 {
		t.Fatalf("CleanStaging of fresh leftovers = %d, %v; want 0", n, err)
	}
	n, size, err := s.CleanStaging(ctx, time.Now().Add(time.Hour), false)
	if err != nil || n != 2 || size != 1 {
		t.Fatalf("CleanStaging = %d, %d bytes, %v; want 2, 1 byte", n, size, err)
	}
	wantNoStaging(t, s)
	ww.uploadID = "" // already aborted; Close then deletes a missing object
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestErrorClasses(t *testing.T) {
	srv := s3test.Start(t)
	ctx := context.Background()
	bucket := srv.NewBucket(t)

	// Wrong secret: FailedPrecondition, not retried as transient.
	_, err := Open(ctx, srv.Endpoint, bucket, WithCredentials(srv.AccessKey, "wrong", ""))
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Open with a wrong secret = %v, want FailedPrecondition", err)
	}
	// Missing bucket: NotFound, or created on request.
	_, err = Open(ctx, srv.Endpoint, "no-such-bucket", WithCredentials(srv.AccessKey, srv.SecretKey, ""))
	if !errdefs.IsNotFound(err) {
		t.Fatalf("Open of a missing bucket = %v, want NotFound", err)
	}
	if _, err := Open(ctx, srv.Endpoint, "made-on-open", WithCredentials(srv.AccessKey, srv.SecretKey, ""), WithCreateBucket(true)); err != nil {
		t.Fatal(err)
	}
	// Nothing listening: Unavailable after the retries.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	start := time.Now()
	_, err = Open(ctx, dead, bucket, WithRetry(3, 10*time.Millisecond))
	if !errdefs.IsUnavailable(err) {
		t.Fatalf("Open of a dead endpoint = %v, want Unavailable", err)
	}
	if time.Since(start) < 10*time.Millisecond {
		t.Fatalf("no backoff between retries")
	}
	// Bad options.
	for _, opt := range []Option{WithPartSize(1 << 20), WithConcurrency(0), WithRegion(""), WithCredentials("a", "", ""), WithRetry(0, 0), WithPrefix("a//b")} {
		if _, err := Open(ctx, srv.Endpoint, bucket, opt); !errdefs.IsInvalidArgument(err) {
			t.Fatalf("Open with a bad option = %v, want InvalidArgument", err)
		}
	}
}

func TestRetry(t *testing.T) {
	ctx := context.Background()
	p := retryPolicy{attempts: 4, base: time.Millisecond, max: 4 * time.Millisecond}
	calls := 0
	err := p.do(ctx, func() error {
		calls++
		if calls < 3 {
			return errdefs.ErrUnavailable
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("retry = %v after %d calls, want success after 3", err, calls)
	}
	calls = 0
	err = p.do(ctx, func() error { calls++; return errdefs.ErrUnavailable })
	if !errdefs.IsUnavailable(err) || calls != 4 {
		t.Fatalf("retry = %v after %d calls, want Unavailable after 4", err, calls)
	}
	calls = 0
	err = p.do(ctx, func() error { calls++; return errdefs.ErrNotFound })
	if !errdefs.IsNotFound(err) || calls != 1 {
		t.Fatalf("retry = %v after %d calls, want NotFound at once", err, calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	err = (retryPolicy{attempts: 10, base: time.Hour, max: time.Hour}).do(cctx, func() error { calls++; return errdefs.ErrUnavailable })
	if !errdefs.IsUnavailable(err) || calls != 1 {
		t.Fatalf("retry with a done context = %v after %d calls", err, calls)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want error
	}{
		{minio.ErrorResponse{Code: "NoSuchKey", StatusCode: 404}, errdefs.ErrNotFound},
		{minio.ErrorResponse{StatusCode: 404}, errdefs.ErrNotFound},
		{minio.ErrorResponse{Code: "PreconditionFailed", StatusCode: 412}, errdefs.ErrAlreadyExists},
		{minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, errdefs.ErrFailedPrecondition},
		{minio.ErrorResponse{Code: "SlowDown", StatusCode: 503}, errdefs.ErrUnavailable},
		{minio.ErrorResponse{Code: "InternalError", StatusCode: 500}, errdefs.ErrUnavailable},
		{minio.ErrorResponse{Code: "Weird", StatusCode: 502}, errdefs.ErrUnavailable},
		{minio.ErrorResponse{Code: "InvalidRequest", StatusCode: 400}, errdefs.ErrInvalidArgument},
		{io.ErrUnexpectedEOF, errdefs.ErrUnavailable},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, errdefs.ErrUnavailable},
	} {
		if got := classify("Op", "key", tc.err); !errors.Is(got, tc.want) {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if got := classify("Op", "key", context.Canceled); !errors.Is(got, context.Canceled) || errdefs.IsUnavailable(got) {
		t.Errorf("classify(Canceled) = %v", got)
	}
}
