package artifacts_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

func wantMode(t *testing.T, p string, mode fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	noErr(t, err)
	if fi.Mode().Perm() != mode {
		t.Fatalf("%s: mode %v, want %v", p, fi.Mode().Perm(), mode)
	}
}

// listDir returns every path below dir (slash-separated, sorted).
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	var ps []string
	noErr(t, filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		ps = append(ps, filepath.ToSlash(rel))
		return nil
	}))
	slices.Sort(ps)
	return ps
}

func TestMaterializeRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := tree(t)
	d, err := artifacts.PutDir(ctx, s, src)
	noErr(t, err)

	out := filepath.Join(t.TempDir(), "new", "out") // created
	noErr(t, artifacts.Materialize(ctx, s, d, out))
	for p, c := range treeFiles {
		mode := fs.FileMode(0o644)
		if p[len(p)-1] == '*' {
			p, mode = p[:len(p)-1], 0o755
		}
		got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		noErr(t, err)
		if string(got) != c {
			t.Errorf("%s = %q, want %q", p, got, c)
		}
		wantMode(t, filepath.Join(out, filepath.FromSlash(p)), mode)
	}
	if target, err := os.Readlink(filepath.Join(out, "sub", "up")); err != nil || target != "../b.txt" {
		t.Fatalf("sub/up -> %q, %v", target, err)
	}
	if got, err := os.ReadFile(filepath.Join(out, "lnk")); err != nil || string(got) != "a" {
		t.Fatalf("reading through lnk = %q, %v", got, err)
	}
	// The copy has the same digest (minus the empty folder, never stored).
	d2, err := artifacts.PutDir(ctx, s, out)
	noErr(t, err)
	if d2 != d {
		t.Fatalf("materialized copy has digest %s, want %s", d2, d)
	}

	// Again into the same folder: entries are replaced, others kept.
	writeFiles(t, out, map[string]string{"a.txt": "changed", "mine": "keep"})
	noErr(t, artifacts.Materialize(ctx, s, d, out))
	if got, _ := os.ReadFile(filepath.Join(out, "a.txt")); string(got) != "a" {
		t.Fatalf("a.txt = %q after a second Materialize", got)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "mine")); string(got) != "keep" {
		t.Fatalf("an unrelated file was touched: %q", got)
	}
}

func TestMaterializeRefusesSymlinkedFolder(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"data/x": "payload"})
	d, err := artifacts.PutDir(ctx, s, src)
	noErr(t, err)

	for name, target := range map[string]func(out string) string{
		"outside": func(string) string { return t.TempDir() },
		"inside":  func(out string) string { return filepath.Join(out, "real") },
	} {
		out := t.TempDir()
		victim := target(out)
		noErr(t, os.MkdirAll(victim, 0o755))
		noErr(t, os.Symlink(victim, filepath.Join(out, "data")))
		err := artifacts.Materialize(ctx, s, d, out)
		if !errdefs.IsFailedPrecondition(err) {
			t.Fatalf("%s: Materialize through a symlinked folder = %v, want FailedPrecondition", name, err)
		}
		if got := listDir(t, victim); len(got) != 0 {
			t.Fatalf("%s: wrote %q through the link", name, got)
		}
	}

	// A folder where a file goes, and a file where a folder goes.
	out := t.TempDir()
	noErr(t, os.MkdirAll(filepath.Join(out, "data", "x"), 0o755))
	wantErr(t, artifacts.Materialize(ctx, s, d, out), errdefs.IsFailedPrecondition, "FailedPrecondition")
	out = t.TempDir()
	writeFiles(t, out, map[string]string{"data": "a file"})
	wantErr(t, artifacts.Materialize(ctx, s, d, out), errdefs.IsFailedPrecondition, "FailedPrecondition")
}

// A symlink already at an entry's own path is replaced, not followed.
func TestMaterializeReplacesFinalSymlink(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"f": "new"})
	d, err := artifacts.PutDir(ctx, s, src)
	noErr(t, err)
	outside := filepath.Join(t.TempDir(), "precious")
	noErr(t, os.WriteFile(outside, []byte("precious"), 0o644))
	out := t.TempDir()
	noErr(t, os.Symlink(outside, filepath.Join(out, "f")))
	noErr(t, artifacts.Materialize(ctx, s, d, out))
	if got, _ := os.ReadFile(outside); string(got) != "precious" {
		t.Fatalf("the link's target was overwritten: %q", got)
	}
	fi, err := os.Lstat(filepath.Join(out, "f"))
	noErr(t, err)
	if !fi.Mode().IsRegular() {
		t.Fatalf("f is %v, want a regular file", fi.Mode())
	}
}

// Hostile manifests are refused before anything is written.
func TestMaterializeHostileManifest(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	payload, err := artifacts.PutBytes(ctx, s, []byte("evil"))
	noErr(t, err)
	f := func(p string) artifacts.Entry { return artifacts.Entry{Path: p, Digest: payload, Size: 4, Mode: 0o644} }
	for name, m := range map[string]artifacts.Manifest{
		"climbing path":  manifest(f("../evil")),
		"absolute path":  manifest(f("/tmp/evil")),
		"absolute link":  manifest(link("l", "/etc")),
		"escaping link":  manifest(link("d/l", "../../..")),
		"write via link": manifest(link("l", "."), f("l/evil")),
	} {
		parent := t.TempDir()
		out := filepath.Join(parent, "out")
		err := artifacts.Materialize(ctx, s, manifestBlob(t, s, m.Encode()), out)
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: Materialize = %v, want InvalidArgument", name, err)
		}
		if got := listDir(t, parent); len(got) != 0 {
			t.Errorf("%s: wrote %q", name, got)
		}
	}
}

func TestMaterializeMissingBlob(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	m := manifest(artifacts.Entry{Path: "f", Digest: digest.FromString("gone"), Size: 4, Mode: 0o644})
	out := t.TempDir()
	err := artifacts.Materialize(ctx, s, manifestBlob(t, s, m.Encode()), out)
	wantErr(t, err, errdefs.IsNotFound, "NotFound")
	if got := listDir(t, out); len(got) != 0 {
		t.Fatalf("left %q", got)
	}
	_, err = artifacts.GetResult(ctx, s, digest.FromString("no result"))
	wantErr(t, err, errdefs.IsNotFound, "NotFound")
}

// Materialize checks digests itself, whatever the provider does.
func TestMaterializeVerifies(t *testing.T) {
	ctx := context.Background()
	good := []byte("good bytes")
	fd := digest.FromBytes(good)
	for name, served := range map[string][]byte{
		"flipped":   []byte("good bytez"),
		"truncated": good[:4],
	} {
		m := manifest(
			artifacts.Entry{Path: "a", Digest: digest.FromString(""), Size: 0, Mode: 0o644},
			artifacts.Entry{Path: "b/f", Digest: fd, Size: int64(len(good)), Mode: 0o644},
		)
		p := mapProvider{m.Digest(): m.Encode(), digest.FromString(""): {}, fd: served}
		out := t.TempDir()
		err := artifacts.Materialize(ctx, p, m.Digest(), out)
		wantErr(t, err, errdefs.IsDataLoss, name+": DataLoss")
		if got := listDir(t, out); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("%s: left %q, want only a and b/", name, got)
		}
	}
}

func TestMaterializeCancelled(t *testing.T) {
	s := newStore(t)
	src := tree(t)
	d, err := artifacts.PutDir(context.Background(), s, src)
	noErr(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := artifacts.Materialize(ctx, s, d, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Materialize with a cancelled context = %v", err)
	}
}
