package activities

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestModelChain: an adapter-only output that carried its parent is stored
// without it, and materialising it puts the whole chain back.
func TestModelChain(t *testing.T) {
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(store, nil, t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	base := t.TempDir()
	writeFiles(t, base, map[string]string{"config.json": "{}", "model.safetensors": "base weights"})
	baseD, err := artifacts.PutDir(ctx, store, base)
	if err != nil {
		t.Fatal(err)
	}
	// Two adapters on top, each output holding its input under parent/.
	parent, parentD := base, baseD
	for _, name := range []string{"sft", "dpo"} {
		out := t.TempDir()
		writeFiles(t, out, map[string]string{"adapter_config.json": name, "adapter.safetensors": name + " weights"})
		if err := os.CopyFS(filepath.Join(out, parentDir), os.DirFS(parent)); err != nil {
			t.Fatal(err)
		}
		if err := writeLineage(out, lineage{Kind: name, Parent: parentD}); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, parentDir)); !os.IsNotExist(err) {
			t.Fatalf("%s: the parent copy was not dropped before storing", name)
		}
		d, err := artifacts.PutDir(ctx, store, out)
		if err != nil {
			t.Fatal(err)
		}
		parent = filepath.Join(t.TempDir(), "m")
		if err := a.materializeModel(ctx, d, parent); err != nil {
			t.Fatal(err)
		}
		parentD = d
	}
	for path, want := range map[string]string{
		"adapter_config.json":                    "dpo",
		"parent/adapter_config.json":             "sft",
		"parent/parent/model.safetensors":        "base weights",
		"parent/parent/config.json":              "{}",
		"parent/adapter.safetensors":             "sft weights",
		"parent/parent/parent/model.safetensors": "",
	} {
		b, err := os.ReadFile(filepath.Join(parent, path))
		if want == "" {
			if err == nil {
				t.Errorf("%s exists; the base model has no parent", path)
			}
			continue
		}
		if err != nil || string(b) != want {
			t.Errorf("%s: %q (%v), want %q", path, b, err, want)
		}
	}
	// A model that stores full weights stands alone.
	full := t.TempDir()
	writeFiles(t, full, map[string]string{"weights.safetensors": "full"})
	if err := writeLineage(full, lineage{Kind: "sft", Parent: baseD}); err != nil {
		t.Fatal(err)
	}
	d, err := artifacts.PutDir(ctx, store, full)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "m")
	if err := a.materializeModel(ctx, d, dst); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dst, parentDir)); !os.IsNotExist(err) {
		t.Error("a full-weights model got a parent folder")
	}
}
