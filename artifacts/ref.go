package artifacts

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// SetRef points the ref name at key, replacing what it pointed at. The
// record is "refs/<name>" holding the key's text. An invalid name (see
// ValidRecordName) or key is ErrInvalidArgument. The key's result need not
// exist: a ref remembers the last key for a name, hit or not.
func SetRef(ctx context.Context, r Records, name string, key digest.Digest) error {
	if err := ValidRecordName(name); err != nil {
		return fmt.Errorf("set ref: %w", err)
	}
	if err := key.Validate(); err != nil {
		return fmt.Errorf("set ref %s: key %q: %w: %v", name, key, errdefs.ErrInvalidArgument, err)
	}
	if err := r.PutRecord(ctx, refsPrefix+name, []byte(key.String()+"\n")); err != nil {
		return fmt.Errorf("set ref %s: %w", name, err)
	}
	return nil
}

// GetRef returns the key the ref name points at: ErrNotFound if the ref is
// absent, ErrInvalidArgument for an invalid name, ErrDataLoss if the record
// does not hold a valid digest.
func GetRef(ctx context.Context, r Records, name string) (digest.Digest, error) {
	if err := ValidRecordName(name); err != nil {
		return "", fmt.Errorf("get ref: %w", err)
	}
	b, err := r.GetRecord(ctx, refsPrefix+name)
	if err != nil {
		return "", fmt.Errorf("get ref %s: %w", name, err)
	}
	d, err := digest.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		return "", fmt.Errorf("get ref %s: %w: %v", name, errdefs.ErrDataLoss, err)
	}
	return d, nil
}
