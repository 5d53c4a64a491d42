package artifactstest

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/artifacts"
)

func testCorrupt(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	for i, mutate := range []func([]byte) []byte{
		func(b []byte) []byte { b = bytes.Clone(b); b[len(b)/2] ^= 1; return b }, // one bit flipped
		func(b []byte) []byte { return bytes.Clone(b[:len(b)-1]) },               // truncated
		func(b []byte) []byte { return append(bytes.Clone(b), 0) },               // grown
	} {
		b := randBytes(uint64(500+i), 200000)
		d := putBytes(t, s, b)
		noErr(t, h.Corrupt(d, mutate(b)))

		_, err := readBlob(t, s, d)
		wantErr(t, err, isDataLoss, "DataLoss")
		_, err = artifacts.ReadAll(ctx, s, d, 1<<20)
		wantErr(t, err, isDataLoss, "DataLoss")
	}
}

func testCorruptMaterialize(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	src, files := writeTree(t, 600)
	md, err := artifacts.PutDir(ctx, s, src)
	noErr(t, err)

	// Intact: the folder comes back with contents, modes and the link.
	out := filepath.Join(t.TempDir(), "out")
	noErr(t, artifacts.Materialize(ctx, s, md, out))
	for p, b := range files {
		got, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p)))
		noErr(t, err)
		if !bytes.Equal(got, b) {
			t.Fatalf("%s differs after Materialize", p)
		}
	}
	fi, err := os.Stat(filepath.Join(out, "bin", "run"))
	noErr(t, err)
	if fi.Mode().Perm() != 0o755 {
		t.Fatalf("bin/run mode %v, want 0755", fi.Mode().Perm())
	}
	if target, err := os.Readlink(filepath.Join(out, "data", "link")); err != nil || target != "../a.txt" {
		t.Fatalf("data/link = %q, %v; want ../a.txt", target, err)
	}

	// Corrupt one file's blob: DataLoss, and no file under its name.
	m, err := artifacts.ReadManifest(ctx, s, md)
	noErr(t, err)
	bad := entryDigest(t, m, "data/part-0")
	flipped := bytes.Clone(files["data/part-0"])
	flipped[12345] ^= 0x80
	noErr(t, h.Corrupt(bad, flipped))
	out2 := filepath.Join(t.TempDir(), "out")
	err = artifacts.Materialize(ctx, s, md, out2)
	wantErr(t, err, isDataLoss, "DataLoss")
	if _, err := os.Lstat(filepath.Join(out2, "data", "part-0")); !os.IsNotExist(err) {
		t.Fatalf("data/part-0 exists after a corrupt blob (%v)", err)
	}
	// Nothing but entries of the manifest (and their folders) was left.
	names := map[string]bool{}
	for _, e := range m.Entries {
		for p := e.Path; p != "."; p = filepath.ToSlash(filepath.Dir(p)) {
			names[p] = true
		}
	}
	noErr(t, filepath.WalkDir(out2, func(p string, _ fs.DirEntry, err error) error {
		if err != nil || p == out2 {
			return err
		}
		rel, _ := filepath.Rel(out2, p)
		if !names[filepath.ToSlash(rel)] {
			t.Errorf("leftover %s after a failed Materialize", rel)
		}
		return nil
	}))

	// A corrupt manifest is DataLoss too.
	noErr(t, h.Corrupt(md, []byte(`{"mediaType":"x","entries":[]}`)))
	_, err = artifacts.ReadManifest(ctx, s, md)
	wantErr(t, err, isDataLoss, "DataLoss")
	wantErr(t, artifacts.Materialize(ctx, s, md, t.TempDir()), isDataLoss, "DataLoss")
}
