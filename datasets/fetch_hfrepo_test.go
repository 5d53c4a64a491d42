package datasets

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// TestFetchHFFolder fetches a model repository (format dir) over a fake
// hub: a two-page listing, safetensors weights kept and the PyTorch
// copies left out, the folder as one manifest; again, from the cache.
func TestFetchHFFolder(t *testing.T) {
	files := map[string]string{
		"config.json":                      `{"model_type":"llama"}`,
		"model-00001-of-00001.safetensors": "weights",
		"pytorch_model.bin":                "pickled weights",
		"pytorch_model.bin.index.json":     "{}",
		"tokenizer/tokenizer.json":         `{"model":{}}`,
	}
	var gets atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/api/models/o/m/tree/main", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("recursive") != "true" {
			http.Error(w, "want recursive", 400)
			return
		}
		var page []treeEntry
		if r.URL.Query().Get("cursor") == "" {
			w.Header().Set("Link", `<http://`+r.Host+`/api/models/o/m/tree/main?recursive=true&cursor=2>; rel="next"`)
			page = []treeEntry{{Type: "file", Path: "config.json"}, {Type: "directory", Path: "tokenizer"}, {Type: "file", Path: "pytorch_model.bin"}}
		} else {
			page = []treeEntry{{Type: "file", Path: "model-00001-of-00001.safetensors"}, {Type: "file", Path: "pytorch_model.bin.index.json"}, {Type: "file", Path: "tokenizer/tokenizer.json"}}
		}
		json.NewEncoder(w).Encode(page)
	})
	mux.HandleFunc("/o/m/resolve/main/", func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/o/m/resolve/main/")
		c, ok := files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		w.Header().Set("ETag", `"`+p+`"`)
		w.Write([]byte(c))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := testFetcher(t, srv.URL)
	src := &study.Source{URI: "hf://o/m@main", Format: "dir"}

	d, err := f.Fetch(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	m, err := artifacts.ReadManifest(t.Context(), f.store, d)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range m.Entries {
		paths = append(paths, e.Path)
		b, err := artifacts.ReadAll(t.Context(), f.store, e.Digest, 1<<20)
		if err != nil || string(b) != files[e.Path] || e.Size != int64(len(b)) {
			t.Errorf("%s: %q %v", e.Path, b, err)
		}
	}
	if got := strings.Join(paths, " "); got != "config.json model-00001-of-00001.safetensors tokenizer/tokenizer.json" {
		t.Errorf("files %s", got)
	}
	if n := gets.Load(); n != 3 {
		t.Errorf("%d downloads, want 3", n)
	}
	// Again: the listing is read, the files come from the fetch cache.
	if d2, err := f.Fetch(t.Context(), src); err != nil || d2 != d || gets.Load() != 3 {
		t.Errorf("second fetch: %s %v, %d downloads", d2, err, gets.Load())
	}
	// A revision the hub does not have.
	if _, err := f.Fetch(t.Context(), &study.Source{URI: "hf://o/m@nope", Format: "dir"}); !errdefs.IsNotFound(err) {
		t.Errorf("unknown revision: %v, want NotFound", err)
	}
}
