package filehash

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// memoVersion is the file format's version; a file of another version is
// read as an empty memo (and replaced by Save).
const memoVersion = 1

// racyWindow: entries whose mtime or ctime is this recent are not kept.
const racyWindow = 2 * time.Second

// stamp identifies one state of a file.
type stamp struct {
	Size  int64  `json:"size"`
	Mtime int64  `json:"mtime_ns"`
	Ctime int64  `json:"ctime_ns"`
	Inode uint64 `json:"ino"`
	Dev   uint64 `json:"dev"`
}

type entry struct {
	stamp
	Digest digest.Digest `json:"digest"`
}

type memoFile struct {
	Version int              `json:"version"`
	Entries map[string]entry `json:"entries"`
}

// Memo is a file-digest memo. It is safe for concurrent use. The zero Memo
// is not usable: call OpenMemo.
type Memo struct {
	path  string
	racy  time.Duration // racyWindow; tests lower it
	mu    sync.Mutex
	files map[string]entry // by absolute path

	hashed atomic.Int64 // files hashed (memo misses), for tests
}

// OpenMemo loads the memo stored at path; a missing file is an empty memo.
// A file that does not decode is ErrDataLoss (delete it to start over).
func OpenMemo(path string) (*Memo, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open memo %s: %w", path, err)
	}
	m := &Memo{path: abs, racy: racyWindow, files: map[string]entry{}}
	b, err := os.ReadFile(abs)
	if errors.Is(err, iofs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open memo %s: %w", path, err)
	}
	var mf memoFile
	if err := json.Unmarshal(b, &mf); err != nil {
		return nil, fmt.Errorf("open memo %s: %w: %v", path, errdefs.ErrDataLoss, err)
	}
	if mf.Version == memoVersion {
		for p, e := range mf.Entries {
			if e.Digest.Validate() == nil {
				m.files[p] = e
			}
		}
	}
	return m, nil
}

// Digest returns the sha256 digest and size of the regular file at path,
// from the memo when the file's identity is unchanged, else by hashing it
// (and remembering the result unless the file changed very recently). A
// missing file is ErrNotFound, anything but a regular file (after following
// symlinks) ErrInvalidArgument. A file that changes while it is hashed is
// ErrUnavailable (try again once it is stable).
func (m *Memo) Digest(path string) (digest.Digest, int64, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, notFound(err))
	}
	if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("hash %s: not a regular file: %w", path, errdefs.ErrInvalidArgument)
	}
	st := identity(fi)
	m.mu.Lock()
	e, ok := m.files[abs]
	m.mu.Unlock()
	if ok && e.stamp == st {
		return e.Digest, e.Size, nil
	}
	d, st, err := m.hash(abs)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	m.mu.Lock()
	if m.stable(st) {
		m.files[abs] = entry{stamp: st, Digest: d}
	} else {
		delete(m.files, abs)
	}
	m.mu.Unlock()
	return d, st.Size, nil
}

// hash reads the file and returns its digest with the identity it had
// throughout the read.
func (m *Memo) hash(abs string) (digest.Digest, stamp, error) {
	f, err := os.Open(abs)
	if err != nil {
		return "", stamp{}, notFound(err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return "", stamp{}, err
	}
	m.hashed.Add(1)
	dg := digest.SHA256.Digester()
	n, err := io.CopyBuffer(dg.Hash(), struct{ io.Reader }{f}, make([]byte, 1<<20))
	if err != nil {
		return "", stamp{}, err
	}
	after, err := f.Stat()
	if err != nil {
		return "", stamp{}, err
	}
	st := identity(after)
	if st != identity(before) || n != st.Size {
		return "", stamp{}, fmt.Errorf("changed while hashing: %w", errdefs.ErrUnavailable)
	}
	return dg.Digest(), st, nil
}

// stable reports whether st is old enough to be remembered.
func (m *Memo) stable(st stamp) bool {
	cutoff := time.Now().Add(-m.racy).UnixNano()
	return st.Mtime < cutoff && st.Ctime < cutoff
}

// HashFunc returns m.Digest as an artifacts.HashFunc, for BuildManifest.
func (m *Memo) HashFunc() artifacts.HashFunc { return m.Digest }

// Save writes the memo to its file atomically (a temporary file in the same
// folder, fsynced, then renamed), creating the folder if needed. Entries of
// files that no longer exist are kept; they cost a line each.
func (m *Memo) Save() error {
	m.mu.Lock()
	b, err := json.Marshal(memoFile{Version: memoVersion, Entries: m.files})
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("save memo %s: %w", m.path, err)
	}
	dir := filepath.Dir(m.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save memo %s: %w", m.path, err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(m.path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save memo %s: %w", m.path, err)
	}
	defer os.Remove(f.Name()) // best effort; gone after the rename
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), m.path)
	}
	if err != nil {
		return fmt.Errorf("save memo %s: %w", m.path, err)
	}
	return nil
}

func notFound(err error) error {
	if errors.Is(err, iofs.ErrNotExist) {
		return fmt.Errorf("%w: %w", errdefs.ErrNotFound, err)
	}
	return err
}
