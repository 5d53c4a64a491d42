package datasets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// A folder source on the hub (format dir), such as a model checkpoint
// hf://OWNER/NAME@REVISION or a dataset folder
// hf://datasets/OWNER/NAME@REVISION/PATH, is the repository's file list at
// that revision (the hub's tree API), each file fetched as a source of its
// own (and so cached like one), assembled into a manifest. When the
// folder holds safetensors weights, the same weights in other formats
// (PyTorch pickles, TensorFlow, Flax) are left out.

// hfFolder is a parsed folder URI.
type hfFolder struct {
	kind  string // "datasets/" or "" (a model)
	repo  string // OWNER/NAME
	rev   string
	under string // a folder inside the repository, or ""
}

func parseHFFolder(uri string) (hfFolder, error) {
	rest, _ := strings.CutPrefix(uri, "hf://")
	var f hfFolder
	if r, ok := strings.CutPrefix(rest, "datasets/"); ok {
		f.kind, rest = "datasets/", r
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 2 || parts[0] == "" {
		return f, fmt.Errorf("%s: want hf://OWNER/NAME@REVISION[/PATH]: %w", uri, errdefs.ErrInvalidArgument)
	}
	name, rev, found := strings.Cut(parts[1], "@")
	if !found || name == "" || rev == "" {
		return f, fmt.Errorf("%s: pin a revision (NAME@REVISION): %w", uri, errdefs.ErrInvalidArgument)
	}
	f.repo, f.rev = parts[0]+"/"+name, rev
	if len(parts) == 3 {
		f.under = strings.Trim(parts[2], "/")
	}
	return f, nil
}

// fileURI is the hf:// URI of one file of the folder.
func (f hfFolder) fileURI(p string) string {
	owner, name, _ := strings.Cut(f.repo, "/")
	return "hf://" + f.kind + owner + "/" + name + "@" + f.rev + "/" + p
}

// treeEntry is one entry of the hub's tree listing.
type treeEntry struct {
	Type string `json:"type"` // file or directory
	Path string `json:"path"` // from the repository root
	Size int64  `json:"size"`
}

// fetchHFFolder fetches a folder source and returns its manifest digest.
func (f *Fetcher) fetchHFFolder(ctx context.Context, src *study.Source) (digest.Digest, error) {
	folder, err := parseHFFolder(src.URI)
	if err != nil {
		return "", err
	}
	entries, err := f.listHF(ctx, folder)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", src.URI, err)
	}
	files := keepFiles(entries)
	if len(files) == 0 {
		return "", fmt.Errorf("source %s: no files at this revision: %w", src.URI, errdefs.ErrNotFound)
	}
	m := artifacts.Manifest{MediaType: artifacts.ManifestMediaType}
	for _, e := range files {
		d, err := f.Fetch(ctx, &study.Source{URI: folder.fileURI(e.Path), Format: "file"})
		if err != nil {
			return "", err
		}
		info, err := f.store.Stat(ctx, d)
		if err != nil {
			return "", fmt.Errorf("source %s: %s: %w", src.URI, e.Path, err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(e.Path, folder.under), "/")
		m.Entries = append(m.Entries, artifacts.Entry{Path: rel, Digest: d, Size: info.Size, Mode: 0o644})
	}
	sort.Slice(m.Entries, func(i, j int) bool { return m.Entries[i].Path < m.Entries[j].Path })
	if err := m.Validate(); err != nil {
		return "", fmt.Errorf("source %s: %w", src.URI, err)
	}
	b := m.Encode()
	return artifacts.Put(ctx, f.store, bytes.NewReader(b), int64(len(b)), m.Digest())
}

// listHF lists every file under the folder, following the listing's
// pages (Link: <...>; rel="next").
func (f *Fetcher) listHF(ctx context.Context, folder hfFolder) ([]treeEntry, error) {
	api := "models/"
	if folder.kind == "datasets/" {
		api = "datasets/"
	}
	next := strings.TrimRight(f.opts.hfEndpoint, "/") + "/api/" + api + folder.repo + "/tree/" + url.PathEscape(folder.rev)
	if folder.under != "" {
		next += "/" + folder.under
	}
	next += "?recursive=true"
	var all []treeEntry
	for next != "" {
		var page []treeEntry
		var link string
		_, err := f.retry(ctx, func() (remoteMeta, error) {
			var err error
			page, link, err = f.listPage(ctx, next)
			return remoteMeta{}, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		next = link
	}
	return all, nil
}

// listPage reads one page of a listing and the next page's URL ("" at
// the end).
func (f *Fetcher) listPage(ctx context.Context, u string) ([]treeEntry, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v: %w", u, err, errdefs.ErrInvalidArgument)
	}
	if f.opts.hfToken != "" {
		req.Header.Set("Authorization", "Bearer "+f.opts.hfToken)
	}
	resp, err := f.opts.client.Do(req)
	if err != nil {
		return nil, "", netError(u, err)
	}
	defer resp.Body.Close()
	if err := statusError(u, resp); err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, "", netError(u, err)
	}
	var page []treeEntry
	if err := json.Unmarshal(b, &page); err != nil {
		return nil, "", fmt.Errorf("%s: not a file listing: %v: %w", u, err, errdefs.ErrInvalidArgument)
	}
	next := ""
	if m := linkNext.FindStringSubmatch(resp.Header.Get("Link")); m != nil {
		next = m[1]
	}
	return page, next, nil
}

var linkNext = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// otherWeights are weight files in formats other than safetensors.
var otherWeights = regexp.MustCompile(`(?i)(\.bin|\.pt|\.pth|\.ckpt|\.h5|\.msgpack|\.ot|\.onnx|\.gguf)$|^(pytorch_model|tf_model|flax_model)[^/]*\.index\.json$`)

// keepFiles returns the files of a listing, without weights in other
// formats when safetensors ones are present.
func keepFiles(entries []treeEntry) []treeEntry {
	safetensors := false
	for _, e := range entries {
		if e.Type == "file" && strings.HasSuffix(e.Path, ".safetensors") {
			safetensors = true
		}
	}
	var out []treeEntry
	for _, e := range entries {
		if e.Type != "file" {
			continue
		}
		if safetensors && otherWeights.MatchString(path.Base(e.Path)) {
			continue
		}
		out = append(out, e)
	}
	return out
}
