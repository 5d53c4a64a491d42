package artifacts

import (
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// ReadAll reads the whole blob d into memory and verifies it against d.
//
// limit is the most bytes the caller accepts: a blob longer than limit is
// ErrFailedPrecondition (and is not read further); a negative limit is
// ErrInvalidArgument, and 0 accepts only the empty blob. An invalid d is
// ErrInvalidArgument, a missing blob ErrNotFound, and bytes that do not hash
// to d ErrDataLoss.
func ReadAll(ctx context.Context, p Provider, d digest.Digest, limit int64) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("read blob %q: %w: %v", d, errdefs.ErrInvalidArgument, err)
	}
	if limit < 0 {
		return nil, fmt.Errorf("read blob %s: negative limit %d: %w", d, limit, errdefs.ErrInvalidArgument)
	}
	rc, err := p.Open(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	defer rc.Close()
	// Reading one byte past limit tells "exactly limit" from "longer"; when
	// the blob fits, the LimitReader ends at the blob's own EOF, which is
	// where the provider verifies.
	n := limit + 1
	if n < 0 { // limit == math.MaxInt64
		n = limit
	}
	b, err := io.ReadAll(io.LimitReader(ctxReader{ctx: ctx, r: rc}, n))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read blob %s: longer than the limit of %d bytes: %w", d, limit, errdefs.ErrFailedPrecondition)
	}
	// Check again here, so a provider that forgets to verify cannot hand
	// out wrong bytes.
	if got := d.Algorithm().FromBytes(b); got != d {
		return nil, fmt.Errorf("read blob %s: bytes hash to %s: %w", d, got, errdefs.ErrDataLoss)
	}
	return b, nil
}
