package datasets

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

func dataNode(path, format, adapter string) *study.Node {
	params := map[string]any{"format": format}
	if adapter != "" {
		params["adapter"] = adapter
	}
	return &study.Node{ID: "data/x", Kind: study.KindData, Params: params,
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

// prep uploads a node's source and prepares it, as a run does.
func prep(t *testing.T, s artifacts.Store, n *study.Node) (map[string]digest.Digest, error) {
	t.Helper()
	src, err := Upload(context.Background(), s, n.Source)
	if err != nil {
		return nil, err
	}
	return Prepare(context.Background(), s, n, src)
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPrepareIsDeterministicAndNameIndependent(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, filepath.Join(dir, "a.jsonl"), "{\"x\":1}\n{\"x\":2}\n")
	b := writeFile(t, filepath.Join(dir, "renamed.jsonl"), "{\"x\":1}\n{\"x\":2}\n")
	s := newStore(t)
	oa, err := prep(t, s, dataNode(a, "jsonl", ""))
	if err != nil {
		t.Fatal(err)
	}
	ob, err := prep(t, s, dataNode(b, "jsonl", ""))
	if err != nil {
		t.Fatal(err)
	}
	if oa[study.OutData] != ob[study.OutData] {
		t.Fatalf("same bytes under another name gave another output: %v %v", oa, ob)
	}
	out := filepath.Join(dir, "out")
	if err := artifacts.Materialize(context.Background(), s, oa[study.OutData], out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(out, "data.jsonl"))
	if string(got) != "{\"x\":1}\n{\"x\":2}\n" {
		t.Fatalf("materialised %q", got)
	}
}

// TestCosmeticEditKeepsOutput: reformatting a record, reordering its
// fields or adding an unused field changes the source digest but not the
// prepared data, so nothing downstream has to run again.
func TestCosmeticEditKeepsOutput(t *testing.T) {
	dir := t.TempDir()
	s := newStore(t)
	a := writeFile(t, filepath.Join(dir, "a.jsonl"), `{"prompt":"Hi?","response":"Hello."}`+"\n")
	b := writeFile(t, filepath.Join(dir, "b.jsonl"), "\n{ \"response\": \"Hello.\",  \"prompt\": \"Hi?\", \"votes\": 3 }\n\n")
	c := writeFile(t, filepath.Join(dir, "c.jsonl"), `{"prompt":"Hi?","response":"Hello!"}`+"\n")
	oa, err := prep(t, s, dataNode(a, "jsonl", "sft-jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	ob, err := prep(t, s, dataNode(b, "jsonl", "sft-jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	oc, err := prep(t, s, dataNode(c, "jsonl", "sft-jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if oa[study.OutData] != ob[study.OutData] {
		t.Error("a cosmetic edit changed the prepared data")
	}
	if oa[study.OutData] == oc[study.OutData] {
		t.Error("a real edit did not change the prepared data")
	}
}

func TestPrepareRejectsBadRecordsWithLineNumbers(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, filepath.Join(dir, "bad.jsonl"),
		"{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\nnot json\n\n{\"prompt\":\"a\",\"chosen\":\"b\"}\n{\"prompt\":1,\"chosen\":\"b\",\"rejected\":\"c\"}\n")
	s := newStore(t)
	before := countBlobs(t, s)
	_, err := Prepare(context.Background(), s, dataNode(p, "jsonl", "pref-jsonl"), mustUpload(t, s, p))
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("got %v, want InvalidArgument", err)
	}
	for _, want := range []string{"bad.jsonl", "line 2", `line 4: missing field "rejected"`, `line 5: field "prompt" is not a string`, "3 of 4 records"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if after := countBlobs(t, s); after != before+1 {
		t.Fatalf("a rejected source stored %d blobs besides itself", after-before-1)
	}
}

func TestSampleIsSeededAndKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 50; i++ {
		b.WriteString(`{"prompt":"p` + string(rune('A'+i%26)) + `","response":"r"}` + "\n")
	}
	p := writeFile(t, filepath.Join(dir, "s.jsonl"), b.String())
	s := newStore(t)
	n := dataNode(p, "jsonl", "sft-jsonl")
	n.Params["sample"] = map[string]any{"n": int64(10), "seed": int64(3)}
	o1, err := prep(t, s, n)
	if err != nil {
		t.Fatal(err)
	}
	o2, _ := prep(t, s, n)
	n.Params["sample"] = map[string]any{"n": int64(10), "seed": int64(4)}
	o3, _ := prep(t, s, n)
	if o1[study.OutData] != o2[study.OutData] || o1[study.OutData] == o3[study.OutData] {
		t.Fatal("sampling is not a function of the seed")
	}
	out := filepath.Join(dir, "out")
	artifacts.Materialize(context.Background(), s, o1[study.OutData], out)
	got, _ := os.ReadFile(filepath.Join(out, "data.jsonl"))
	if lines := strings.Count(string(got), "\n"); lines != 10 {
		t.Fatalf("sampled %d lines", lines)
	}
}

func TestPrepareFormats(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, format, adapter, content string
		ok                             bool
	}{
		{"t.txt", "text", "text", "hello\n", true},
		{"bad.txt", "text", "text", "\xff\xfe", false},
		{"t.json", "json", "", `[{"a":1}]`, true},
		{"two.json", "json", "", `{} {}`, false},
		{"empty.jsonl", "jsonl", "", "\n\n", false},
		{"fake.parquet", "parquet", "", "PAR0", false},
		{"shp.jsonl", "jsonl", "shp", `{"history":"x"}`, false},
	}
	s := newStore(t)
	for _, tc := range cases {
		p := writeFile(t, filepath.Join(dir, tc.name), tc.content)
		_, err := prep(t, s, dataNode(p, tc.format, tc.adapter))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err=%v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestPrepareFolderAndMissingFile(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ckpt")
	os.MkdirAll(filepath.Join(ck, "sub"), 0o755)
	writeFile(t, filepath.Join(ck, "sub", "w.bin"), "weights")
	n := dataNode(ck, "dir", "")
	n.Params["role"] = study.OutModel
	out, err := prep(t, newStore(t), n)
	if err != nil || out[study.OutModel] == "" {
		t.Fatalf("folder source: %v %v", out, err)
	}
	_, err = prep(t, newStore(t), dataNode(filepath.Join(dir, "gone.jsonl"), "jsonl", ""))
	if !errdefs.IsNotFound(err) {
		t.Fatalf("missing file: %v", err)
	}
}

func mustUpload(t *testing.T, s artifacts.Store, path string) digest.Digest {
	t.Helper()
	d, _, err := artifacts.PutFile(context.Background(), s, path)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func countBlobs(t *testing.T, s artifacts.Store) int {
	n := 0
	s.Walk(context.Background(), func(artifacts.Info) error { n++; return nil })
	return n
}

// TestPrepareGzip reads a gzip-compressed source through its adapter (as
// hh-rlhf ships its files) and refuses one without an adapter.
func TestPrepareGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"chosen":"\n\nHuman: hi?\n\nAssistant: hello.","rejected":"\n\nHuman: hi?\n\nAssistant: go away."}` + "\n"))
	zw.Close()
	dir, s := t.TempDir(), newStore(t)
	p := writeFile(t, filepath.Join(dir, "train.jsonl.gz"), buf.String())
	out, err := prep(t, s, dataNode(p, "jsonl", "hh-rlhf"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := artifacts.ReadManifest(context.Background(), s, out[study.OutData])
	if err != nil || len(m.Entries) == 0 {
		t.Fatalf("%v %v", m, err)
	}
	if _, err := prep(t, s, dataNode(p, "jsonl", "")); !errdefs.IsInvalidArgument(err) {
		t.Errorf("gzip without an adapter: %v, want InvalidArgument", err)
	}
}
