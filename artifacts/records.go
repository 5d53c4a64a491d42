package artifacts

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/dagproject/dag/errdefs"
)

// Record name prefixes of the documents this package writes.
const (
	resultsPrefix = "results/"
	refsPrefix    = "refs/"
)

// ValidRecordName reports whether name may name a record: one or more
// non-empty segments separated by single slashes, each made of
// [A-Za-z0-9._:+@=~-] and neither "." nor "..". Names therefore never start
// or end with a slash and cannot climb out of a backend's record space. A
// name that breaks a rule is ErrInvalidArgument.
func ValidRecordName(name string) error {
	if name == "" {
		return fmt.Errorf("record name: empty: %w", errdefs.ErrInvalidArgument)
	}
	for seg := range strings.SplitSeq(name, "/") {
		if err := validRecordSegment(seg); err != nil {
			return fmt.Errorf("record name %q: %w", name, err)
		}
	}
	return nil
}

func validRecordSegment(seg string) error {
	switch seg {
	case "":
		return fmt.Errorf("empty segment: %w", errdefs.ErrInvalidArgument)
	case ".", "..":
		return fmt.Errorf("segment %q: %w", seg, errdefs.ErrInvalidArgument)
	}
	for i := 0; i < len(seg); i++ {
		if !recordNameByte(seg[i]) {
			return fmt.Errorf("byte %q not allowed: %w", seg[i], errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

func recordNameByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("._:+@=~-", c) >= 0
}

// VisitSorted calls fn for each name in sorted order, stopping at the
// first error or when ctx is done: the tail every backend's WalkRecords
// shares once it has listed the names.
func VisitSorted(ctx context.Context, names []string, fn func(name string) error) error {
	sort.Strings(names)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}
