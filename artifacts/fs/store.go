package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// staleIngest is the age after which Open removes a staging file: no write
// takes a day, so its writer is gone.
const staleIngest = 24 * time.Hour

type store struct {
	blobs   string // <root>/blobs/sha256
	ingest  string // <root>/ingest
	records string // <root>/records
}

// Open returns the store in the folder root, creating root and its layout
// as needed. Errors creating folders are returned wrapped (a missing parent
// that cannot be created is the os error). Open removes staging files older
// than a day, best effort.
func Open(root string) (artifacts.Store, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", root, err)
	}
	s := &store{
		blobs:   filepath.Join(abs, "blobs", digest.SHA256.String()),
		ingest:  filepath.Join(abs, "ingest"),
		records: filepath.Join(abs, "records"),
	}
	for _, dir := range []string{s.blobs, s.ingest, s.records} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open store %s: %w", root, err)
		}
	}
	s.removeStale(time.Now().Add(-staleIngest))
	return s, nil
}

// removeStale removes staging files last modified before cutoff. Errors are
// ignored: leftovers only cost space, and the next Open tries again.
func (s *store) removeStale(cutoff time.Time) {
	des, err := os.ReadDir(s.ingest)
	if err != nil {
		return
	}
	for _, de := range des {
		if fi, err := de.Info(); err == nil && fi.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(s.ingest, de.Name()))
		}
	}
}

// blobPath is the file of d. An invalid d is ErrInvalidArgument; a digest of
// another algorithm than sha256 cannot be stored here, so it is ErrNotFound.
func (s *store) blobPath(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("blob %q: %w: %v", d, errdefs.ErrInvalidArgument, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("blob %s: only sha256 blobs are stored: %w", d, errdefs.ErrNotFound)
	}
	return filepath.Join(s.blobs, d.Encoded()), nil
}

// Open returns a reader that verifies the blob's size and digest at EOF.
func (s *store) Open(ctx context.Context, d digest.Digest) (io.ReadCloser, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, class(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	return &verifier{f: f, want: d, size: fi.Size(), dg: d.Algorithm().Digester()}, nil
}

// Stat reports the blob's size and its commit time (the file's mtime).
func (s *store) Stat(ctx context.Context, d digest.Digest) (artifacts.Info, error) {
	p, err := s.blobPath(d)
	if err != nil {
		return artifacts.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return artifacts.Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return artifacts.Info{}, fmt.Errorf("stat blob %s: %w", d, class(err))
	}
	return artifacts.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}, nil
}

// Walk lists blobs/sha256 in batches, skipping names that are not a sha256
// hex digest and blobs deleted while it runs.
func (s *store) Walk(ctx context.Context, fn func(artifacts.Info) error) error {
	f, err := os.Open(s.blobs)
	if err != nil {
		return fmt.Errorf("walk blobs: %w", err)
	}
	defer f.Close()
	for {
		des, err := f.ReadDir(1024)
		for _, de := range des {
			if err := ctx.Err(); err != nil {
				return err
			}
			d := digest.NewDigestFromEncoded(digest.SHA256, de.Name())
			if d.Validate() != nil || !de.Type().IsRegular() {
				continue
			}
			fi, err := de.Info()
			if errors.Is(err, iofs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("walk blobs: %w", err)
			}
			if err := fn(artifacts.Info{Digest: d, Size: fi.Size(), CreatedAt: fi.ModTime()}); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("walk blobs: %w", err)
		}
	}
}

// Delete removes the blob's file.
func (s *store) Delete(ctx context.Context, d digest.Digest) error {
	p, err := s.blobPath(d)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("delete blob %s: %w", d, class(err))
	}
	return nil
}

// class adds the errdefs class matching an os error: a missing file, or a
// path through a non-folder, is ErrNotFound.
func class(err error) error {
	if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("%w: %w", errdefs.ErrNotFound, err)
	}
	return err
}

// syncDir fsyncs a folder so a new name in it survives a crash.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

var _ artifacts.Store = (*store)(nil)
