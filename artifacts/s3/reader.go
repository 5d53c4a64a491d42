package s3

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// Open returns a reader that hashes what it returns and verifies size and
// digest at EOF. A blob of up to two parts is one GET. A larger one is read
// as ranged GETs of one part each, several in flight ahead of the caller
// (each retried on transient errors), all pinned to the ETag a HEAD saw,
// so a blob replaced mid-read is ErrDataLoss rather than a mix. A missing
// blob is ErrNotFound.
func (s *store) Open(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return nil, err
	}
	var oi minio.ObjectInfo
	err = s.opts.retry.do(ctx, func() error {
		var err error
		oi, err = s.core.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		return classify("HeadObject", key, err)
	})
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	v := &verifier{key: key, want: d, size: oi.Size}
	if oi.Size <= 2*s.opts.partSize {
		var rc io.ReadCloser
		err = s.opts.retry.do(ctx, func() error {
			opts := minio.GetObjectOptions{}
			if oi.ETag != "" {
				_ = opts.SetMatchETag(oi.ETag)
			}
			var err error
			rc, _, _, err = s.core.GetObject(ctx, s.bucket, key, opts)
			return classify("GetObject", key, err)
		})
		if err != nil {
			return nil, fmt.Errorf("open blob %s: %w", d, changed(err))
		}
		dg := digest.SHA256.Digester()
		v.r, v.close, v.sum = io.TeeReader(rc, dg.Hash()), rc.Close, dg.Digest
		return v, nil
	}
	pr := newParallelReader(ctx, s, key, oi.ETag, oi.Size)
	v.r, v.close, v.sum = pr, pr.Close, pr.digest
	return v, nil
}

// changed turns a failed If-Match (the blob was replaced since the HEAD)
// into ErrDataLoss: blobs never change unless damaged.
func changed(err error) error {
	if errdefs.IsAlreadyExists(err) { // classify's reading of 412
		return fmt.Errorf("blob changed while read: %w: %v", errdefs.ErrDataLoss, err)
	}
	return err
}

// verifier counts what it reads; at EOF it checks the bytes against the
// blob's digest and the object's size. r hashes the bytes it returns (sum
// is their digest so far).
type verifier struct {
	r     io.Reader
	close func() error
	sum   func() digest.Digest
	key   string
	want  digest.Digest
	size  int64
	n     int64
	err   error // sticky: the verdict at EOF, or a read error
}

// Read returns io.EOF only after the bytes were verified; a mismatch is
// ErrDataLoss, returned from then on.
func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.n += int64(n)
	switch {
	case err == io.EOF:
		if got := v.sum(); v.n != v.size || got != v.want {
			err = fmt.Errorf("blob %s: read %d bytes hashing to %s, object size %d: %w", v.want, v.n, got, v.size, errdefs.ErrDataLoss)
		}
		v.err = err
	case err != nil:
		if _, ok := err.(interface{ Unwrap() error }); !ok {
			err = classify("GetObject", v.key, err)
		}
		v.err = err
	}
	return n, err
}

// Close releases the connection(s); it does not verify.
func (v *verifier) Close() error { return v.close() }

// parallelReader reads an object as consecutive ranged GETs, up to
// concurrency of them ahead of the consumer, and hashes the chunks in order
// in a goroutine of its own, so fetching, hashing and the consumer overlap.
type parallelReader struct {
	cancel context.CancelFunc
	ready  chan chunk // hashed, in order; closed after the last
	cur    chunk
	off    int // read position in cur.b
	err    error
	wg     sync.WaitGroup
	free   chan []byte
	sum    digest.Digest // set before ready is closed
}

type chunk struct {
	b   []byte
	err error
}

func newParallelReader(ctx context.Context, s *store, key, etag string, size int64) *parallelReader {
	ctx, cancel := context.WithCancel(ctx)
	n := s.opts.concurrency
	pr := &parallelReader{cancel: cancel, ready: make(chan chunk, 1), free: make(chan []byte, n+2)}
	for range n + 2 {
		pr.free <- make([]byte, s.opts.partSize)
	}
	fetched := make(chan chan chunk, n) // in order
	pr.wg.Go(func() {                   // dispatcher
		defer close(fetched)
		for off := int64(0); off < size; off += s.opts.partSize {
			var buf []byte
			select {
			case buf = <-pr.free:
			case <-ctx.Done():
				return
			}
			buf = buf[:min(s.opts.partSize, size-off)]
			res := make(chan chunk, 1)
			select {
			case fetched <- res:
			case <-ctx.Done():
				return
			}
			pr.wg.Go(func() { res <- fetch(ctx, s, key, etag, off, buf) })
		}
	})
	pr.wg.Go(func() { // hasher
		defer close(pr.ready)
		dg := digest.SHA256.Digester()
		for res := range fetched {
			c := <-res
			if c.err == nil {
				dg.Hash().Write(c.b)
			}
			select {
			case pr.ready <- c:
			case <-ctx.Done():
				return
			}
			if c.err != nil {
				return
			}
		}
		pr.sum = dg.Digest()
	})
	return pr
}

func (pr *parallelReader) digest() digest.Digest { return pr.sum }

// fetch reads [off, off+len(buf)) of key into buf, retrying transient
// failures.
func fetch(ctx context.Context, s *store, key, etag string, off int64, buf []byte) chunk {
	err := s.opts.retry.do(ctx, func() error {
		opts := minio.GetObjectOptions{}
		if etag != "" {
			_ = opts.SetMatchETag(etag)
		}
		if err := opts.SetRange(off, off+int64(len(buf))-1); err != nil {
			return err
		}
		rc, _, _, err := s.core.GetObject(ctx, s.bucket, key, opts)
		if err != nil {
			return classify("GetObject", key, err)
		}
		defer rc.Close()
		if _, err := io.ReadFull(rc, buf); err != nil {
			// A short range means the object shrank: treat as truncated.
			return classify("GetObject", key, err)
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("read %s at %d: %w", key, off, changed(err))
	}
	return chunk{b: buf, err: err}
}

func (pr *parallelReader) Read(p []byte) (int, error) {
	if pr.err != nil {
		return 0, pr.err
	}
	for pr.off == len(pr.cur.b) {
		if pr.cur.b != nil {
			pr.free <- pr.cur.b[:cap(pr.cur.b)]
			pr.cur = chunk{}
		}
		c, ok := <-pr.ready
		if !ok {
			pr.err = io.EOF // pr.sum is set: the hasher closed ready
			return 0, io.EOF
		}
		pr.cur, pr.off = c, 0
		if c.err != nil {
			pr.err = c.err
			return 0, pr.err
		}
	}
	n := copy(p, pr.cur.b[pr.off:])
	pr.off += n
	return n, nil
}

// Close stops the fetches in flight and waits for them.
func (pr *parallelReader) Close() error {
	pr.cancel()
	pr.wg.Wait()
	return nil
}

var _ artifacts.Provider = (*store)(nil)
