package hf

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
)

// workerFS holds the worker's Python sources; tests are not embedded.
//
//go:embed worker/dag_hf_worker/*.py
var workerFS embed.FS

const workerRoot = "worker"

// sourcesSum is the sha256 of the embedded worker sources (each file's
// path and bytes, in path order): the name of their cache folder.
var sourcesSum = sourcesDigest(workerFS)

func sourcesDigest(fsys fs.FS) string {
	var names []string
	_ = fs.WalkDir(fsys, workerRoot, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			panic(err) // embedded files are always readable
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// materialize writes the embedded sources to <cacheDir>/<digest>/ unless
// they are there already, and returns that folder (the worker's
// PYTHONPATH entry). The folder appears complete or not at all: it is
// written beside and renamed, and a concurrent writer's rename winning is
// fine.
func materialize(cacheDir string) (string, error) {
	dir := filepath.Join(cacheDir, sourcesSum[:16])
	if _, err := os.Stat(filepath.Join(dir, "dag_hf_worker", "__main__.py")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("hf: worker cache: %w", err)
	}
	tmp, err := os.MkdirTemp(cacheDir, ".tmp-")
	if err != nil {
		return "", fmt.Errorf("hf: worker cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	err = fs.WalkDir(workerFS, workerRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(workerRoot, filepath.FromSlash(p))
		dst := filepath.Join(tmp, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		b, err := workerFS.ReadFile(path.Clean(p))
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("hf: worker cache: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "dag_hf_worker", "__main__.py")); serr == nil {
			return dir, nil // another process won the race
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("hf: worker cache: %w", err)
		}
		return "", fmt.Errorf("hf: worker cache %s: incomplete folder in the way: %w", dir, err)
	}
	return dir, nil
}
