package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestPlanFetchesRemoteSources: an hf:// source is fetched on plan (the
// node gets a key), a second plan does not download it again, and a
// source that cannot be reached leaves its node BLOCKED with the reason.
func TestPlanFetchesRemoteSources(t *testing.T) {
	var gets atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/datasets/o/n/resolve/main/sft.jsonl" {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		w.Header().Set("ETag", `"e1"`)
		w.Write([]byte("{\"prompt\":\"p\",\"response\":\"r\"}\n"))
	}))
	defer srv.Close()
	t.Setenv("DAG_HF_ENDPOINT", srv.URL)
	dir := t.TempDir()
	file := filepath.Join(dir, "study.yaml")
	os.WriteFile(file, []byte(`version: 1
name: remote
model: {checkpoint: ckpt}
datasets:
  good: {source: "hf://datasets/o/n@main/sft.jsonl", adapter: sft-jsonl}
  gone: {source: "`+srv.URL+`/nothing.jsonl", adapter: sft-jsonl}
  down: {source: "http://127.0.0.1:1/x.jsonl", adapter: sft-jsonl}
recipes:
  sft: {kind: sft}
pipelines:
  a: {steps: [{sft: good}, {sft: gone}, {sft: down}]}
`), 0o644)
	os.MkdirAll(filepath.Join(dir, "ckpt"), 0o755)
	os.WriteFile(filepath.Join(dir, "ckpt", "w.bin"), []byte("w"), 0o644)
	home := t.TempDir()
	status := func() map[string]string {
		p := planQuickstart(t, file, home)
		m := map[string]string{}
		for _, n := range p.Nodes {
			if n.Kind == "data" {
				m[n.ID] = n.Status + ": " + n.Reason
				if n.Status != "blocked" && n.Key == nil {
					t.Errorf("%s has no key", n.ID)
				}
			}
		}
		return m
	}
	first := status()
	if !strings.HasPrefix(first["data/good"], "miss") {
		t.Errorf("hf source: %s", first["data/good"])
	}
	if !strings.HasPrefix(first["data/gone"], "blocked") || !strings.Contains(first["data/gone"], "404") {
		t.Errorf("missing source: %s", first["data/gone"])
	}
	if !strings.HasPrefix(first["data/down"], "blocked") || !strings.Contains(first["data/down"], "127.0.0.1:1") {
		t.Errorf("unreachable source: %s", first["data/down"])
	}
	if gets.Load() != 1 {
		t.Fatalf("%d downloads, want 1", gets.Load())
	}
	second := status()
	if second["data/good"] != first["data/good"] || gets.Load() != 1 {
		t.Errorf("second plan: %s, %d downloads", second["data/good"], gets.Load())
	}
}

// TestSubmitWithRemoteSource runs a study whose SFT data comes from an
// hf:// source (a local server standing in for the hub): submit fetches
// and pins it, and the run completes with it.
func TestSubmitWithRemoteSource(t *testing.T) {
	data := `{"prompt":"tea?","response":"yes"}` + "\n" + `{"prompt":"maps?","response":"no"}` + "\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/datasets/o/n/resolve/0123456789abcdef0123456789abcdef01234567/a.jsonl" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(data))
	}))
	defer srv.Close()
	t.Setenv("DAG_HF_ENDPOINT", srv.URL)
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	home := t.TempDir()
	startServer(t, home)
	file := writeTinyStudy(t)
	remote := strings.Replace(tinyStudy, "a: {source: a.jsonl,", `a: {source: "hf://datasets/o/n@0123456789abcdef0123456789abcdef01234567/a.jsonl",`, 1)
	if remote == tinyStudy {
		t.Fatal("test study not rewritten")
	}
	os.WriteFile(file, []byte(remote), 0o644)
	r := submitWait(t, file, home)
	if got := outcomes(r); got["data/a"] != "executed" || got["sft/a"] != "executed" {
		t.Fatalf("outcomes: %v", got)
	}
}
