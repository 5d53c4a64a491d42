package filehash

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// openTestMemo opens a memo that remembers files however recent they are.
func openTestMemo(t *testing.T, path string) *Memo {
	t.Helper()
	m, err := OpenMemo(path)
	noErr(t, err)
	m.racy = 0
	return m
}

// wantDigest checks m.Digest(p) and whether it hashed the file.
func wantDigest(t *testing.T, m *Memo, p string, content []byte, hashed bool) {
	t.Helper()
	before := m.hashed.Load()
	d, n, err := m.Digest(p)
	noErr(t, err)
	if d != digest.FromBytes(content) || n != int64(len(content)) {
		t.Fatalf("Digest(%s) = %s, %d; want %s, %d", p, d, n, digest.FromBytes(content), len(content))
	}
	if got := m.hashed.Load() > before; got != hashed {
		t.Fatalf("Digest(%s) hashed the file: %v, want %v", p, got, hashed)
	}
}

// settle waits past the filesystem's timestamp granularity, so the next
// change gets a new ctime.
func settle() { time.Sleep(20 * time.Millisecond) }

func TestMemoServesUnchangedFiles(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "big")
	content := []byte("version one")
	noErr(t, os.WriteFile(p, content, 0o644))
	memoPath := filepath.Join(dir, "state", "memo.json")
	m := openTestMemo(t, memoPath)
	wantDigest(t, m, p, content, true)
	wantDigest(t, m, p, content, false)
	// Relative paths are the same file.
	wd, err := os.Getwd()
	noErr(t, err)
	rel, err := filepath.Rel(wd, p)
	noErr(t, err)
	wantDigest(t, m, rel, content, false)

	// Saved and reopened.
	noErr(t, m.Save())
	m2 := openTestMemo(t, memoPath)
	wantDigest(t, m2, p, content, false)
	if des, _ := os.ReadDir(filepath.Dir(memoPath)); len(des) != 1 {
		t.Fatalf("Save left %d files, want 1", len(des))
	}
}

// A same-size edit with the mtime forced back is caught by the ctime.
func TestMemoDetectsRestoredMtime(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	v1, v2 := []byte("aaaaaaaa"), []byte("bbbbbbbb")
	noErr(t, os.WriteFile(p, v1, 0o644))
	fi, err := os.Stat(p)
	noErr(t, err)
	mtime := fi.ModTime()
	m := openTestMemo(t, filepath.Join(dir, "memo"))
	wantDigest(t, m, p, v1, true)

	settle()
	noErr(t, os.WriteFile(p, v2, 0o644)) // same inode, same size
	noErr(t, os.Chtimes(p, mtime, mtime))
	fi2, err := os.Stat(p)
	noErr(t, err)
	if !fi2.ModTime().Equal(mtime) || fi2.Size() != fi.Size() {
		t.Fatal("test setup: mtime or size differ")
	}
	wantDigest(t, m, p, v2, true)
	wantDigest(t, m, p, v2, false)
}

// A file replaced by a rename (new inode) is caught too.
func TestMemoDetectsReplacedFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	v1, v2 := []byte("11111111"), []byte("22222222")
	noErr(t, os.WriteFile(p, v1, 0o644))
	fi, err := os.Stat(p)
	noErr(t, err)
	m := openTestMemo(t, filepath.Join(dir, "memo"))
	wantDigest(t, m, p, v1, true)

	tmp := filepath.Join(dir, "tmp")
	noErr(t, os.WriteFile(tmp, v2, 0o644))
	noErr(t, os.Chtimes(tmp, fi.ModTime(), fi.ModTime()))
	noErr(t, os.Rename(tmp, p))
	wantDigest(t, m, p, v2, true)
}

// Recently changed files are hashed every time (racy entries).
func TestMemoRacyFilesNotRemembered(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	noErr(t, os.WriteFile(p, []byte("fresh"), 0o644))
	m, err := OpenMemo(filepath.Join(dir, "memo")) // default racy window
	noErr(t, err)
	wantDigest(t, m, p, []byte("fresh"), true)
	wantDigest(t, m, p, []byte("fresh"), true)
}

func TestMemoErrors(t *testing.T) {
	dir := t.TempDir()
	m := openTestMemo(t, filepath.Join(dir, "memo"))
	_, _, err := m.Digest(filepath.Join(dir, "missing"))
	if !errdefs.IsNotFound(err) {
		t.Fatalf("Digest(missing) = %v, want NotFound", err)
	}
	_, _, err = m.Digest(dir)
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("Digest(folder) = %v, want InvalidArgument", err)
	}

	bad := filepath.Join(dir, "bad")
	noErr(t, os.WriteFile(bad, []byte("{not json"), 0o644))
	if _, err := OpenMemo(bad); !errdefs.IsDataLoss(err) {
		t.Fatalf("OpenMemo(corrupt) = %v, want DataLoss", err)
	}
	other := filepath.Join(dir, "v99")
	noErr(t, os.WriteFile(other, []byte(`{"version":99,"entries":{"/x":{}}}`), 0o644))
	m2, err := OpenMemo(other)
	noErr(t, err)
	if len(m2.files) != 0 {
		t.Fatal("entries of another version were kept")
	}
}

func TestMemoConcurrent(t *testing.T) {
	dir := t.TempDir()
	m := openTestMemo(t, filepath.Join(dir, "memo"))
	var paths []string
	for i := range 8 {
		p := filepath.Join(dir, string(rune('a'+i)))
		noErr(t, os.WriteFile(p, []byte(p), 0o644))
		paths = append(paths, p)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, p := range paths {
				d, _, err := m.Digest(p)
				if err != nil || d != digest.FromString(p) {
					t.Errorf("Digest(%s) = %s, %v", p, d, err)
				}
			}
			if err := m.Save(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := m.hashed.Load(); n < int64(len(paths)) || n > int64(8*len(paths)) {
		t.Fatalf("hashed %d times", n)
	}
	wantDigest(t, m, paths[0], []byte(paths[0]), false)
}

// The memo plugs into BuildManifest: a second build hashes nothing.
func TestMemoHashFunc(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	noErr(t, os.MkdirAll(filepath.Join(src, "sub"), 0o755))
	noErr(t, os.WriteFile(filepath.Join(src, "a"), []byte("a"), 0o644))
	noErr(t, os.WriteFile(filepath.Join(src, "sub", "b"), []byte("b"), 0o644))
	m := openTestMemo(t, filepath.Join(dir, "memo"))
	m1, err := artifacts.BuildManifest(ctx, src, m.HashFunc())
	noErr(t, err)
	plain, err := artifacts.BuildManifest(ctx, src, nil)
	noErr(t, err)
	if m1.Digest() != plain.Digest() {
		t.Fatal("memo and plain hashing disagree")
	}
	before := m.hashed.Load()
	_, err = artifacts.BuildManifest(ctx, src, m.HashFunc())
	noErr(t, err)
	if m.hashed.Load() != before {
		t.Fatal("second BuildManifest re-hashed unchanged files")
	}
}
