package artifacts

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// HashFunc returns the digest and size of the regular file at path.
// BuildManifest calls it once per file; a HashFunc may also store the file
// (PutDir does) or serve a memo (artifacts/filehash).
type HashFunc func(path string) (digest.Digest, int64, error)

// BuildManifest describes the folder dir without storing anything.
//
// It walks dir (following dir itself if it is a symlink, and nothing below
// it): regular files become entries hashed with hash (nil means the plain
// sha256 of the file's bytes), with mode 0755 if any execute bit is set and
// 0644 otherwise; symlinks become link entries whose target is cleaned
// (path.Clean); folders are implied by the entries below them, so empty
// folders are dropped. Other file types (devices, sockets, pipes), names
// that are not UTF-8 and links that are absolute or leave dir are
// ErrInvalidArgument; a missing dir is ErrNotFound, a dir that is not a
// folder ErrInvalidArgument. Errors of hash are returned wrapped.
func BuildManifest(ctx context.Context, dir string, hash HashFunc) (Manifest, error) {
	if hash == nil {
		hash = HashFile
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("build manifest of %s: %w", dir, osClass(err))
	}
	if !fi.IsDir() {
		return Manifest{}, fmt.Errorf("build manifest of %s: not a folder: %w", dir, errdefs.ErrInvalidArgument)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return Manifest{}, fmt.Errorf("build manifest of %s: %w", dir, osClass(err))
	}
	entries := []Entry{}
	err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return osClass(err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root || de.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		e := Entry{Path: filepath.ToSlash(rel)}
		switch t := de.Type(); {
		case t.IsRegular():
			info, err := de.Info()
			if err != nil {
				return osClass(err)
			}
			e.Mode = modeFile
			if info.Mode().Perm()&0o111 != 0 {
				e.Mode = modeExec
			}
			if e.Digest, e.Size, err = hash(p); err != nil {
				return fmt.Errorf("%s: %w", e.Path, err)
			}
		case t&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return osClass(err)
			}
			e.Link, e.Mode = path.Clean(filepath.ToSlash(target)), modeLink
		default:
			return fmt.Errorf("%s: unsupported file type %s: %w", e.Path, t, errdefs.ErrInvalidArgument)
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return Manifest{}, fmt.Errorf("build manifest of %s: %w", dir, err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
	m := Manifest{MediaType: ManifestMediaType, Entries: entries}
	if err := m.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("build manifest of %s: %w", dir, err)
	}
	return m, nil
}

// PutDir stores the folder dir: every file's blob, then the manifest blob
// last, and returns the manifest's digest (the folder's digest). Each file
// is read once, hashing while it is stored; blobs already present are
// fine. Errors are BuildManifest's and Put's. On error some file blobs may
// be stored already, unreferenced (GC removes them).
func PutDir(ctx context.Context, s Store, dir string) (digest.Digest, error) {
	m, err := BuildManifest(ctx, dir, func(p string) (digest.Digest, int64, error) {
		return PutFile(ctx, s, p)
	})
	if err != nil {
		return "", fmt.Errorf("put dir: %w", err)
	}
	d, err := PutBytes(ctx, s, m.Encode())
	if err != nil {
		return "", fmt.Errorf("put dir %s: manifest: %w", dir, err)
	}
	return d, nil
}

// HashFile is the default HashFunc: the sha256 of the file's bytes and
// their count. A missing file is NotFound.
func HashFile(p string) (digest.Digest, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, osClass(err)
	}
	defer f.Close()
	dg := digest.SHA256.Digester()
	bp := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(bp)
	n, err := io.CopyBuffer(dg.Hash(), struct{ io.Reader }{f}, *bp)
	if err != nil {
		return "", 0, err
	}
	return dg.Digest(), n, nil
}
