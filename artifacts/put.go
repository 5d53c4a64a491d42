package artifacts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// copyBufferSize is the buffer Put streams through: large enough that
// syscall and hashing overheads per chunk vanish on gigabyte files.
const copyBufferSize = 1 << 20

// copyBuffers recycles copy buffers: PutDir stores many small files.
var copyBuffers = sync.Pool{New: func() any {
	b := make([]byte, copyBufferSize)
	return &b
}}

// Put streams r into s as one blob and returns its digest.
//
// size < 0 and expected == "" skip the respective checks (see
// Writer.Commit). An invalid expected digest is ErrInvalidArgument; a size or
// digest mismatch is ErrFailedPrecondition and publishes nothing. A blob that
// is already stored counts as success, so retried uploads are idempotent. An
// error reading r, or ctx ending, abandons the write (nothing is published)
// and is returned as is.
func Put(ctx context.Context, s Ingester, r io.Reader, size int64, expected digest.Digest) (digest.Digest, error) {
	if expected != "" {
		if err := expected.Validate(); err != nil {
			return "", fmt.Errorf("put: expected digest %q: %w: %v", expected, errdefs.ErrInvalidArgument, err)
		}
	}
	w, err := s.Writer(ctx)
	if err != nil {
		return "", fmt.Errorf("put: start write: %w", err)
	}
	defer w.Close() // no-op after Commit; abandons the staged bytes otherwise

	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	// ctxReader hides any WriterTo of r, so the large buffer is used.
	if _, err := io.CopyBuffer(w, ctxReader{ctx: ctx, r: r}, *bp); err != nil {
		return "", fmt.Errorf("put: copy: %w", err)
	}
	d := w.Digest()
	if err := w.Commit(ctx, size, expected); err != nil && !errdefs.IsAlreadyExists(err) {
		return "", fmt.Errorf("put %s: %w", d, err)
	}
	return d, nil
}

// PutBytes stores b as one blob and returns its digest. Storing bytes that
// are already present succeeds.
func PutBytes(ctx context.Context, s Ingester, b []byte) (digest.Digest, error) {
	return Put(ctx, s, bytes.NewReader(b), int64(len(b)), digest.SHA256.FromBytes(b))
}

// PutFile stores the regular file at path as one blob and returns its digest
// and size. A missing file is ErrNotFound; anything but a regular file
// (after following symlinks) is ErrInvalidArgument. The file must not change
// while it is read: a size change is ErrFailedPrecondition.
func PutFile(ctx context.Context, s Ingester, path string) (digest.Digest, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("put file %s: %w", path, osClass(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, fmt.Errorf("put file %s: %w", path, osClass(err))
	}
	if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("put file %s: not a regular file (%s): %w", path, fi.Mode().Type(), errdefs.ErrInvalidArgument)
	}
	d, err := Put(ctx, s, f, fi.Size(), "")
	if err != nil {
		return "", 0, fmt.Errorf("put file %s: %w", path, err)
	}
	return d, fi.Size(), nil
}

// ctxReader fails reads once ctx is done, so long copies stop promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// osClass adds the errdefs class matching an os error, if any.
func osClass(err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %w", errdefs.ErrNotFound, err)
	case errors.Is(err, os.ErrExist):
		return fmt.Errorf("%w: %w", errdefs.ErrAlreadyExists, err)
	default:
		return err
	}
}
