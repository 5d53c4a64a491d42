package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/internal/gobuild"
)

// TestBuildIsReproducible builds dag-plugin-tinylm from two copies of the
// module in different folders, with the project's build settings, and
// expects one digest: the digest enters every key of every node the plugin
// runs, so checkouts, CI and worker images that build in other folders
// must share cache hits. The binaries must not mention either folder.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the plugin twice")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var digests [2]string
	for i := range digests {
		src := filepath.Join(t.TempDir(), "checkout-"+string(rune('a'+i)))
		copyModule(t, root, src)
		bin := filepath.Join(t.TempDir(), "dag-plugin-tinylm")
		if err := gobuild.Build(context.Background(), src, bin, "./cmd/dag-plugin-tinylm"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(src)) {
			t.Errorf("the binary built in %s embeds that folder's path", src)
		}
		sum := sha256.Sum256(b)
		digests[i] = hex.EncodeToString(sum[:])
	}
	if digests[0] != digests[1] {
		t.Fatalf("two folders, two digests: sha256:%s and sha256:%s", digests[0], digests[1])
	}
}

// copyModule copies the module's sources (not .git, build outputs or the
// local home) from root to dst.
func copyModule(t *testing.T, root, dst string) {
	t.Helper()
	skip := map[string]bool{".git": true, "bin": true, ".dag": true, "gpubin": true}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if skip[d.Name()] && path != root {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
