package artifacts_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/errdefs"
)

func newStore(t *testing.T) artifacts.Store {
	t.Helper()
	s, err := fs.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, is func(error) bool, class string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", class)
	}
	if !is(err) {
		t.Fatalf("got %v, want class %s", err, class)
	}
}

// writeFiles creates files (slash path -> contents) under dir; a path
// ending in "*" is made executable (the star is dropped).
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		mode := os.FileMode(0o644)
		if p[len(p)-1] == '*' {
			p, mode = p[:len(p)-1], 0o755
		}
		full := filepath.Join(dir, filepath.FromSlash(p))
		noErr(t, os.MkdirAll(filepath.Dir(full), 0o755))
		noErr(t, os.WriteFile(full, []byte(c), mode))
		noErr(t, os.Chmod(full, mode))
	}
}

// mapProvider serves blobs from memory without verifying them, to show the
// helpers verify on their own.
type mapProvider map[digest.Digest][]byte

func (m mapProvider) Open(_ context.Context, d digest.Digest) (io.ReadCloser, error) {
	b, ok := m[d]
	if !ok {
		return nil, errdefs.ErrNotFound
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// manifestBlob stores m's encoding (valid or not) and returns its digest.
func manifestBlob(t *testing.T, s artifacts.Ingester, b []byte) digest.Digest {
	t.Helper()
	d, err := artifacts.PutBytes(context.Background(), s, b)
	noErr(t, err)
	return d
}
