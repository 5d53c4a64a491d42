package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// blobMode makes committed blobs read-only, against accidental edits.
const blobMode = 0o444

// writer stages one blob in a file under ingest/.
type writer struct {
	s    *store
	f    *os.File // nil once committed or closed
	dg   digest.Digester
	size int64
	wb   int64 // bytes handed to startWriteback so far
}

// Writer creates a staging file; ctx is only checked, not kept.
func (s *store) Writer(ctx context.Context) (artifacts.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(s.ingest, "blob-*")
	if err != nil {
		return nil, fmt.Errorf("start blob write: %w", err)
	}
	return &writer{s: s, f: f, dg: digest.SHA256.Digester()}, nil
}

// Write appends to the staging file and the running hash. After Commit or
// Close it is ErrFailedPrecondition.
func (w *writer) Write(p []byte) (int, error) {
	if w.f == nil {
		return 0, fmt.Errorf("write blob: writer is closed: %w", errdefs.ErrFailedPrecondition)
	}
	n, err := w.f.Write(p)
	w.dg.Hash().Write(p[:n])
	w.size += int64(n)
	if w.size-w.wb >= writebackChunk {
		startWriteback(w.f, w.wb, w.size-w.wb)
		w.wb = w.size
	}
	if err != nil {
		return n, fmt.Errorf("write blob: %w", err)
	}
	return n, nil
}

func (w *writer) Digest() digest.Digest { return w.dg.Digest() }

// Commit checks size and digest, fsyncs the staging file and links it under
// its digest; the staging file is removed whatever happens. An expected
// digest that is invalid or not sha256 is ErrInvalidArgument.
func (w *writer) Commit(ctx context.Context, size int64, expected digest.Digest) error {
	if w.f == nil {
		return fmt.Errorf("commit blob: writer is closed: %w", errdefs.ErrFailedPrecondition)
	}
	defer w.Close()
	d := w.dg.Digest()
	if err := artifacts.CheckCommit(d, w.size, size, expected); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	target := filepath.Join(w.s.blobs, d.Encoded())
	if _, err := os.Lstat(target); err == nil {
		return fmt.Errorf("commit blob %s: %w", d, errdefs.ErrAlreadyExists)
	}
	if err := w.f.Chmod(blobMode); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	if err := w.publish(w.f.Name(), target); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	if err := syncDir(w.s.blobs); err != nil {
		return fmt.Errorf("commit blob %s: %w", d, err)
	}
	return nil
}

// publish makes the staged file visible as target without ever replacing
// an existing target.
func (w *writer) publish(staged, target string) error {
	err := os.Link(staged, target)
	if err == nil {
		return nil
	}
	if errors.Is(err, iofs.ErrExist) {
		return errdefs.ErrAlreadyExists
	}
	// No hard links on this filesystem: rename instead. A concurrent commit
	// of the same blob may then replace the file with identical bytes,
	// which readers cannot tell apart.
	if _, serr := os.Lstat(target); serr == nil {
		return errdefs.ErrAlreadyExists
	}
	if rerr := os.Rename(staged, target); rerr != nil {
		return fmt.Errorf("link: %v; rename: %w", err, rerr)
	}
	return nil
}

// Close removes the staging file; after Commit or Close it does nothing.
func (w *writer) Close() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	cerr := f.Close()
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("abandon blob write: %w", err)
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("abandon blob write: %w", cerr)
	}
	return nil
}

var _ artifacts.Writer = (*writer)(nil)
