package datasets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

func dataNode(path, format string) *study.Node {
	return &study.Node{ID: "data/x", Kind: study.KindData, Params: map[string]any{"format": format},
		Source: &study.Source{URI: filepath.Base(path), Format: format, Path: path}}
}

func newStore(t *testing.T) artifacts.Store {
	t.Helper()
	s, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPrepareIsDeterministicAndNameIndependent(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "renamed.jsonl")
	for _, p := range []string{a, b} {
		os.WriteFile(p, []byte("{\"x\":1}\n{\"x\":2}\n"), 0o644)
	}
	s := newStore(t)
	ctx := context.Background()
	oa, err := Prepare(ctx, s, dataNode(a, "jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ob, err := Prepare(ctx, s, dataNode(b, "jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if oa[study.OutData] != ob[study.OutData] {
		t.Fatalf("same bytes under another name gave another output: %v %v", oa, ob)
	}
	out := filepath.Join(dir, "out")
	if err := artifacts.Materialize(ctx, s, oa[study.OutData], out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out, "data.jsonl"))
	if string(got) != "{\"x\":1}\n{\"x\":2}\n" {
		t.Fatalf("materialised %q", got)
	}
}

func TestPrepareRejectsBadRecordsWithLineNumbers(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(p, []byte("{\"x\":1}\nnot json\n\n[1,2]\n{\"x\":3}\n"), 0o644)
	s := newStore(t)
	_, err := Prepare(context.Background(), s, dataNode(p, "jsonl"))
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	for _, want := range []string{p, "line 2", "line 4", "2 of 4 records"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	n := 0
	s.Walk(context.Background(), func(artifacts.Info) error { n++; return nil })
	if n != 0 {
		t.Fatalf("a rejected source stored %d blobs", n)
	}
}

func TestPrepareFormats(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, format, content string
		ok                    bool
	}{
		{"t.txt", "text", "hello\n", true},
		{"bad.txt", "text", "\xff\xfe", false},
		{"t.json", "json", `[{"a":1}]`, true},
		{"two.json", "json", `{} {}`, false},
		{"empty.jsonl", "jsonl", "\n\n", false},
		{"fake.parquet", "parquet", "PAR0", false},
	}
	s := newStore(t)
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, []byte(tc.content), 0o644)
		_, err := Prepare(context.Background(), s, dataNode(p, tc.format))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err=%v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestPrepareFolderAndMissingFile(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ckpt")
	os.MkdirAll(filepath.Join(ck, "sub"), 0o755)
	os.WriteFile(filepath.Join(ck, "sub", "w.bin"), []byte("weights"), 0o644)
	n := dataNode(ck, "dir")
	n.Params["role"] = study.OutModel
	out, err := Prepare(context.Background(), newStore(t), n)
	if err != nil || out[study.OutModel] == "" {
		t.Fatalf("folder source: %v %v", out, err)
	}
	_, err = Prepare(context.Background(), newStore(t), dataNode(filepath.Join(dir, "gone.jsonl"), "jsonl"))
	if !errdefs.IsNotFound(err) || !strings.Contains(err.Error(), "gone.jsonl") {
		t.Fatalf("missing file: %v", err)
	}
}
