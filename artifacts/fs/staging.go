package fs

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/dagproject/dag/artifacts"
)

// CleanStaging removes (or with dryRun counts) staging files under ingest/
// last modified before cutoff: leftovers of crashed writers. A file that
// vanishes meanwhile is skipped.
func (s *store) CleanStaging(ctx context.Context, cutoff time.Time, dryRun bool) (n int, bytes int64, err error) {
	des, err := os.ReadDir(s.ingest)
	if err != nil {
		return 0, 0, err
	}
	for _, de := range des {
		if err := ctx.Err(); err != nil {
			return n, bytes, err
		}
		fi, err := de.Info()
		if err != nil || !fi.ModTime().Before(cutoff) {
			continue
		}
		if !dryRun {
			if err := os.Remove(filepath.Join(s.ingest, de.Name())); err != nil {
				if os.IsNotExist(err) {
					continue
				}
				return n, bytes, err
			}
		}
		n++
		bytes += fi.Size()
	}
	return n, bytes, nil
}

var _ artifacts.StagingCleaner = (*store)(nil)
