package artifactstest

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// randBytes returns n bytes from a generator seeded with seed.
func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	g := newGen(seed, int64(n))
	if _, err := io.ReadFull(g, b); err != nil {
		panic(err)
	}
	return b
}

// gen streams size pseudo-random bytes from a PCG seeded with seed; the
// stream does not depend on how it is read.
type gen struct {
	rng  *rand.PCG
	left int64
	word [8]byte
	pos  int // next unread byte of word; 8 = none
}

func newGen(seed uint64, size int64) *gen {
	return &gen{rng: rand.NewPCG(seed, seed^0x9e3779b97f4a7c15), left: size, pos: 8}
}

func (g *gen) Read(p []byte) (int, error) {
	if g.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	n := 0
	for n < len(p) {
		if g.pos == 8 {
			if len(p)-n >= 8 { // fast path: whole words straight into p
				binary.LittleEndian.PutUint64(p[n:], g.rng.Uint64())
				n += 8
				continue
			}
			binary.LittleEndian.PutUint64(g.word[:], g.rng.Uint64())
			g.pos = 0
		}
		c := copy(p[n:], g.word[g.pos:])
		g.pos += c
		n += c
	}
	g.left -= int64(n)
	return n, nil
}

// wantErr fails unless err is of the class is reports.
func wantErr(t *testing.T, err error, is func(error) bool, class string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", class)
	}
	if !is(err) {
		t.Fatalf("got %v, want class %s", err, class)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func putBytes(t *testing.T, s artifacts.Ingester, b []byte) digest.Digest {
	t.Helper()
	d, err := artifacts.PutBytes(context.Background(), s, b)
	noErr(t, err)
	if want := digest.FromBytes(b); d != want {
		t.Fatalf("PutBytes = %s, want %s", d, want)
	}
	return d
}

// walkAll returns the sorted digests Walk reports.
func walkAll(t *testing.T, s artifacts.Walker) []digest.Digest {
	t.Helper()
	var ds []digest.Digest
	noErr(t, s.Walk(context.Background(), func(i artifacts.Info) error {
		ds = append(ds, i.Digest)
		return nil
	}))
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds
}

func wantBlobs(t *testing.T, s artifacts.Walker, want ...digest.Digest) {
	t.Helper()
	got := walkAll(t, s)
	want = append([]digest.Digest(nil), want...)
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	if len(got) != len(want) {
		t.Fatalf("Walk = %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("Walk = %v, want %v", got, want)
		}
	}
}

// readBlob opens d and reads it to the end (where it is verified).
func readBlob(t *testing.T, s artifacts.Provider, d digest.Digest) ([]byte, error) {
	t.Helper()
	rc, err := s.Open(context.Background(), d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

func wantBlob(t *testing.T, s artifacts.Provider, d digest.Digest, want []byte) {
	t.Helper()
	got, err := readBlob(t, s, d)
	noErr(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("blob %s: got %d bytes, want %d (contents differ)", d, len(got), len(want))
	}
}

// writeTree creates a small folder in a temp dir: files with seeded
// contents, an executable, a nested folder and a symlink. It returns the
// folder and its files' contents by slash path.
func writeTree(t *testing.T, seed uint64) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"a.txt":         randBytes(seed, 100),
		"bin/run":       randBytes(seed+1, 3000),
		"data/part-0":   randBytes(seed+2, 70000),
		"data/sub/deep": randBytes(seed+3, 1),
		"empty":         {},
	}
	for p, b := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		noErr(t, os.MkdirAll(filepath.Dir(full), 0o755))
		mode := os.FileMode(0o644)
		if p == "bin/run" {
			mode = 0o755
		}
		noErr(t, os.WriteFile(full, b, mode))
		noErr(t, os.Chmod(full, mode))
	}
	noErr(t, os.Symlink("../a.txt", filepath.Join(dir, "data", "link")))
	return dir, files
}

// entryDigest returns the digest of the manifest entry at p.
func entryDigest(t *testing.T, m artifacts.Manifest, p string) digest.Digest {
	t.Helper()
	for _, e := range m.Entries {
		if e.Path == p {
			return e.Digest
		}
	}
	t.Fatalf("manifest has no entry %s", p)
	return ""
}

var (
	isNotFound           = errdefs.IsNotFound
	isAlreadyExists      = errdefs.IsAlreadyExists
	isInvalidArgument    = errdefs.IsInvalidArgument
	isFailedPrecondition = errdefs.IsFailedPrecondition
	isDataLoss           = errdefs.IsDataLoss
)
