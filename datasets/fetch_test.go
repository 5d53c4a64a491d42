package datasets

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// fileServer serves content at every path under /datasets/o/n/resolve/,
// counting GETs; the first GET breaks off half-way when breakFirst.
type fileServer struct {
	content    []byte
	gets       atomic.Int32
	ranged     atomic.Int32
	breakFirst bool
}

func (f *fileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/datasets/o/n/resolve/") && r.URL.Path != "/plain.jsonl" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Range") != "" {
		f.ranged.Add(1)
	}
	if r.Method == http.MethodGet {
		if f.gets.Add(1) == 1 && f.breakFirst {
			w.Header().Set("ETag", `"v1"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(f.content)))
			w.WriteHeader(200)
			w.Write(f.content[:len(f.content)/2])
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler) // cut the connection
		}
	}
	w.Header().Set("ETag", `"v1"`)
	http.ServeContent(w, r, "f", time.Unix(0, 0), bytes.NewReader(f.content))
}

func testFetcher(t *testing.T, endpoint string) *Fetcher {
	t.Helper()
	f, err := NewFetcher(newStore(t), WithHFEndpoint(endpoint), WithRetry(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFetchHFResumesAndCaches(t *testing.T) {
	content := bytes.Repeat([]byte("{\"prompt\":\"p\",\"response\":\"r\"}\n"), 50)
	fs := &fileServer{content: content, breakFirst: true}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	f := testFetcher(t, srv.URL)
	ctx := context.Background()
	src := &study.Source{URI: "hf://datasets/o/n@main/data/train.jsonl", Format: "jsonl"}
	d, err := f.Fetch(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if d != digest.FromBytes(content) {
		t.Fatalf("digest %s, want %s", d, digest.FromBytes(content))
	}
	gets := fs.gets.Load()
	if gets != 2 || fs.ranged.Load() != 1 {
		t.Errorf("%d GETs, want 2 (one broken, one resumed)", gets)
	}
	// A second fetch of a branch revision checks with a HEAD only.
	if d2, err := f.Fetch(ctx, src); err != nil || d2 != d || fs.gets.Load() != gets {
		t.Fatalf("second fetch: %s %v, %d GETs", d2, err, fs.gets.Load())
	}
	// A pinned commit needs no request at all once cached.
	pinned := &study.Source{URI: "hf://datasets/o/n@0123456789abcdef0123456789abcdef01234567/x.jsonl", Format: "jsonl"}
	if _, err := f.Fetch(ctx, pinned); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if d3, err := f.Fetch(ctx, pinned); err != nil || d3 != d {
		t.Fatalf("pinned, server gone: %s %v", d3, err)
	}
}

func TestFetchHTTPSAndErrors(t *testing.T) {
	fs := &fileServer{content: []byte("{\"a\":1}\n")}
	srv := httptest.NewServer(fs)
	f := testFetcher(t, srv.URL)
	ctx := context.Background()
	d, err := f.Fetch(ctx, &study.Source{URI: srv.URL + "/plain.jsonl"})
	if err != nil || d != digest.FromBytes(fs.content) {
		t.Fatalf("http: %s %v", d, err)
	}
	r, _ := f.store.Open(ctx, d)
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, fs.content) {
		t.Fatalf("stored %q", got)
	}
	if _, err := f.Fetch(ctx, &study.Source{URI: srv.URL + "/missing.jsonl"}); !errdefs.IsNotFound(err) {
		t.Errorf("404: %v, want NotFound", err)
	}
	if _, err := f.Fetch(ctx, &study.Source{URI: "hf://datasets/o/n/x.jsonl"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("no revision: %v, want InvalidArgument", err)
	}
	srv.Close()
	if _, err := f.Fetch(ctx, &study.Source{URI: srv.URL + "/plain.jsonl"}); !errdefs.IsUnavailable(err) {
		t.Errorf("server gone: %v, want Unavailable", err)
	}
}

func TestHFURL(t *testing.T) {
	u, rev, err := HFURL("http://h/", "hf://datasets/Anthropic/hh-rlhf@09be8c5/harmless-base/train.jsonl.gz")
	if err != nil || u != "http://h/datasets/Anthropic/hh-rlhf/resolve/09be8c5/harmless-base/train.jsonl.gz" || rev != "09be8c5" {
		t.Fatalf("%s %s %v", u, rev, err)
	}
}
