package artifacts_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

var treeFiles = map[string]string{
	"a.txt":      "a",
	"a/x":        "x",
	"b.txt":      "bee",
	"run*":       "#!/bin/sh\n",
	"sub/deep/f": "deep",
	"empty":      "",
}

// tree writes treeFiles plus an empty folder and two links.
func tree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, treeFiles)
	noErr(t, os.Mkdir(filepath.Join(dir, "emptydir"), 0o755))
	noErr(t, os.Symlink("./a.txt", filepath.Join(dir, "lnk")))
	noErr(t, os.Symlink("../b.txt", filepath.Join(dir, "sub", "up")))
	return dir
}

func TestBuildManifest(t *testing.T) {
	ctx := context.Background()
	dir := tree(t)
	m, err := artifacts.BuildManifest(ctx, dir, nil)
	noErr(t, err)
	var paths []string
	for _, e := range m.Entries {
		paths = append(paths, e.Path)
	}
	want := []string{"a.txt", "a/x", "b.txt", "empty", "lnk", "run", "sub/deep/f", "sub/up"}
	if !slices.Equal(paths, want) {
		t.Fatalf("paths = %q, want %q", paths, want)
	}
	byPath := map[string]artifacts.Entry{}
	for _, e := range m.Entries {
		byPath[e.Path] = e
	}
	for p, c := range treeFiles {
		mode := uint32(0o644)
		if p[len(p)-1] == '*' {
			p, mode = p[:len(p)-1], 0o755
		}
		e := byPath[p]
		if e.Digest != digest.FromString(c) || e.Size != int64(len(c)) || e.Mode != mode || e.Link != "" {
			t.Errorf("entry %s = %+v", p, e)
		}
	}
	if e := byPath["lnk"]; e.Link != "a.txt" || e.Mode != 0o777 || e.Digest != "" { // target cleaned
		t.Errorf("entry lnk = %+v", e)
	}
	if e := byPath["sub/up"]; e.Link != "../b.txt" {
		t.Errorf("entry sub/up = %+v", e)
	}

	// Deterministic, and what PutDir stores.
	m2, err := artifacts.BuildManifest(ctx, dir, nil)
	noErr(t, err)
	if m2.Digest() != m.Digest() {
		t.Fatal("BuildManifest is not deterministic")
	}
	s := newStore(t)
	d, err := artifacts.PutDir(ctx, s, dir)
	noErr(t, err)
	if d != m.Digest() {
		t.Fatalf("PutDir = %s, BuildManifest digest %s", d, m.Digest())
	}
	for _, e := range m.Entries {
		if e.Link == "" {
			if _, err := s.Stat(ctx, e.Digest); err != nil {
				t.Errorf("blob of %s not stored: %v", e.Path, err)
			}
		}
	}

	// A symlinked root is followed.
	alias := filepath.Join(t.TempDir(), "alias")
	noErr(t, os.Symlink(dir, alias))
	m3, err := artifacts.BuildManifest(ctx, alias, nil)
	noErr(t, err)
	if m3.Digest() != m.Digest() {
		t.Fatal("a symlinked root gives another manifest")
	}
}

func TestBuildManifestHashFunc(t *testing.T) {
	ctx := context.Background()
	dir := tree(t)
	var calls []string
	m, err := artifacts.BuildManifest(ctx, dir, func(p string) (digest.Digest, int64, error) {
		rel, _ := filepath.Rel(dir, p)
		calls = append(calls, filepath.ToSlash(rel))
		return digest.FromString("fake " + rel), 7, nil
	})
	noErr(t, err)
	slices.Sort(calls)
	if want := []string{"a.txt", "a/x", "b.txt", "empty", "run", "sub/deep/f"}; !slices.Equal(calls, want) {
		t.Fatalf("hash called for %q, want %q", calls, want)
	}
	if m.Entries[0].Digest != digest.FromString("fake a.txt") || m.Entries[0].Size != 7 {
		t.Fatalf("entry = %+v, want the hash func's answer", m.Entries[0])
	}

	_, err = artifacts.BuildManifest(ctx, dir, func(string) (digest.Digest, int64, error) {
		return "", 0, fmt.Errorf("busy: %w", errdefs.ErrUnavailable)
	})
	wantErr(t, err, errdefs.IsUnavailable, "Unavailable")
}

func TestBuildManifestRefuses(t *testing.T) {
	ctx := context.Background()
	for name, link := range map[string]string{
		"escaping": "../../outside",
		"absolute": "/etc/passwd",
	} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{"d/f": "x"})
		noErr(t, os.Symlink(link, filepath.Join(dir, "d", "l")))
		_, err := artifacts.BuildManifest(ctx, dir, nil)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s link: BuildManifest = %v, want InvalidArgument", name, err)
		}
	}
	dir := t.TempDir()
	_, err := artifacts.BuildManifest(ctx, filepath.Join(dir, "missing"), nil)
	wantErr(t, err, errdefs.IsNotFound, "NotFound")
	writeFiles(t, dir, map[string]string{"f": "x"})
	_, err = artifacts.BuildManifest(ctx, filepath.Join(dir, "f"), nil)
	wantErr(t, err, errdefs.IsInvalidArgument, "InvalidArgument")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := artifacts.BuildManifest(cctx, dir, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("BuildManifest with a cancelled context = %v", err)
	}
}

func TestBuildManifestEmpty(t *testing.T) {
	dir := t.TempDir()
	noErr(t, os.MkdirAll(filepath.Join(dir, "only", "folders"), 0o755))
	m, err := artifacts.BuildManifest(context.Background(), dir, nil)
	noErr(t, err)
	if len(m.Entries) != 0 || m.Validate() != nil {
		t.Fatalf("manifest of empty folders = %+v", m)
	}
}
