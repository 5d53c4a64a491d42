package artifacts

import (
	"fmt"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// CheckCommit is the check every backend's Writer.Commit makes before
// publishing: written bytes hashing to got must match the caller's size
// (unless negative) and expected digest (unless empty). An expected digest
// that is invalid or not sha256 is InvalidArgument; a mismatch is
// FailedPrecondition.
func CheckCommit(got digest.Digest, written, size int64, expected digest.Digest) error {
	if expected != "" {
		if err := expected.Validate(); err != nil {
			return fmt.Errorf("commit blob: expected %q: %w: %v", expected, errdefs.ErrInvalidArgument, err)
		}
		if expected.Algorithm() != digest.SHA256 {
			return fmt.Errorf("commit blob: expected %s: only sha256 is supported: %w", expected, errdefs.ErrInvalidArgument)
		}
	}
	if size >= 0 && size != written {
		return fmt.Errorf("commit blob %s: wrote %d bytes, expected %d: %w", got, written, size, errdefs.ErrFailedPrecondition)
	}
	if expected != "" && expected != got {
		return fmt.Errorf("commit blob: wrote %s, expected %s: %w", got, expected, errdefs.ErrFailedPrecondition)
	}
	return nil
}
