package artifacts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// Materialize writes the folder whose manifest is d into dir, creating dir
// if needed; files already in dir that the manifest does not name are left
// alone, and those it names are replaced.
//
// It is safe against hostile manifests and folders: the manifest is
// verified and validated first (ErrInvalidArgument, ErrDataLoss,
// ErrNotFound as ReadManifest), every operation goes through an os.Root on
// dir so nothing is written outside it, and a folder on an entry's path
// that exists as a symlink or as a non-folder is ErrFailedPrecondition, as
// is an existing folder where a file or link goes. Each file is written to
// a temporary name in its folder, its size and digest checked, then renamed
// into place: a blob whose bytes do not match is ErrDataLoss and leaves no
// file under the entry's name; a missing blob is ErrNotFound. Entries are
// written in manifest order and an error stops the walk, leaving the
// entries already written in place.
func Materialize(ctx context.Context, p Provider, d digest.Digest, dir string) error {
	m, err := ReadManifest(ctx, p, d)
	if err != nil {
		return fmt.Errorf("materialize: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("materialize %s into %s: %w", d, dir, osClass(err))
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("materialize %s into %s: %w", d, dir, osClass(err))
	}
	defer root.Close()
	mz := materializer{p: p, root: root, dirs: map[string]bool{".": true}}
	for _, e := range m.Entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("materialize %s into %s: %w", d, dir, err)
		}
		if err := mz.entry(ctx, e); err != nil {
			return fmt.Errorf("materialize %s into %s: %s: %w", d, dir, e.Path, err)
		}
	}
	return nil
}

type materializer struct {
	p    Provider
	root *os.Root
	dirs map[string]bool // folders known to be real folders
}

func (mz *materializer) entry(ctx context.Context, e Entry) error {
	if err := mz.ensureDir(path.Dir(e.Path)); err != nil {
		return err
	}
	if fi, err := mz.root.Lstat(e.Path); err == nil && fi.IsDir() {
		return fmt.Errorf("a folder is in the way: %w", errdefs.ErrFailedPrecondition)
	}
	tmp := path.Join(path.Dir(e.Path), fmt.Sprintf(".dag-tmp-%016x", rand.Uint64()))
	if e.Link != "" {
		if err := mz.root.Symlink(e.Link, tmp); err != nil {
			return osClass(err)
		}
	} else if err := mz.file(ctx, e, tmp); err != nil {
		return err
	}
	if err := mz.root.Rename(tmp, e.Path); err != nil {
		_ = mz.root.Remove(tmp) // best effort: the rename error is the one to report
		return osClass(err)
	}
	return nil
}

// file writes e's verified bytes to tmp; on error tmp is removed.
func (mz *materializer) file(ctx context.Context, e Entry, tmp string) (err error) {
	f, err := mz.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return osClass(err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			_ = mz.root.Remove(tmp) // best effort: err is what matters
		}
	}()
	rc, err := mz.p.Open(ctx, e.Digest)
	if err != nil {
		return err
	}
	defer rc.Close()
	// Verify here too, so a provider that does not verify cannot leave
	// wrong bytes behind.
	dg := e.Digest.Algorithm().Digester()
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	n, err := io.CopyBuffer(io.MultiWriter(f, dg.Hash()), ctxReader{ctx: ctx, r: rc}, *bp)
	if err != nil {
		return err
	}
	if n != e.Size || dg.Digest() != e.Digest {
		return fmt.Errorf("blob %s: got %d bytes hashing to %s, want %d: %w", e.Digest, n, dg.Digest(), e.Size, errdefs.ErrDataLoss)
	}
	return f.Chmod(fs.FileMode(e.Mode)) // fchmod: the umask does not apply
}

// ensureDir makes dir (relative to the root) a real folder, creating what is
// missing and refusing symlinks and non-folders on the way.
func (mz *materializer) ensureDir(dir string) error {
	if mz.dirs[dir] {
		return nil
	}
	if err := mz.ensureDir(path.Dir(dir)); err != nil {
		return err
	}
	fi, err := mz.root.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := mz.root.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return osClass(err)
		}
		if fi, err = mz.root.Lstat(dir); err != nil {
			return osClass(err)
		}
	case err != nil:
		return osClass(err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("folder %s exists as a symlink: %w", dir, errdefs.ErrFailedPrecondition)
	}
	if !fi.IsDir() {
		return fmt.Errorf("folder %s exists as a %s: %w", dir, fi.Mode().Type(), errdefs.ErrFailedPrecondition)
	}
	mz.dirs[dir] = true
	return nil
}
