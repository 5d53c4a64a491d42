package datasets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// Fetcher stores remote sources (https://, http://, s3://, hf://) in the
// artifact store and pins each by its content digest. A fetch cache kept
// in the store's records (fetch/<sha256 of the URI>) maps a URI to the
// digest it last had together with its ETag, so a second plan or submit
// does not download again: a pinned hf:// revision (a 40-hex commit) is
// trusted without any request; anything else costs one HEAD (or S3 stat)
// whose ETag, Last-Modified and size must match the cached ones.
type Fetcher struct {
	store artifacts.Store
	opts  fetchOptions
}

// NewFetcher returns a Fetcher storing into s.
func NewFetcher(s artifacts.Store, opts ...FetchOption) (*Fetcher, error) {
	o := fetchOptions{
		hfEndpoint: "https://huggingface.co",
		client:     defaultClient(),
		attempts:   4,
		backoff:    300 * time.Millisecond,
		every:      2 * time.Second,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return &Fetcher{store: s, opts: o}, nil
}

// cacheEntry is the fetch cache's record for one URI.
type cacheEntry struct {
	URI          string        `json:"uri"`
	URL          string        `json:"url"`
	ETag         string        `json:"etag,omitempty"`
	LastModified string        `json:"last_modified,omitempty"`
	Size         int64         `json:"size"`
	Digest       digest.Digest `json:"digest"`
	Fetched      time.Time     `json:"fetched"`
}

// remoteMeta is what a HEAD (or S3 stat) says about an object.
type remoteMeta struct {
	etag, lastModified string
	size               int64 // -1 when unknown
}

func (m remoteMeta) matches(e cacheEntry) bool {
	if m.etag == "" && m.lastModified == "" {
		return false // nothing to compare with: fetch again
	}
	return m.etag == e.ETag && m.lastModified == e.LastModified && (m.size < 0 || m.size == e.Size)
}

// remote is one kind of remote location.
type remote interface {
	// head stats the object. A missing object is NotFound; an unreachable
	// server is Unavailable.
	head(ctx context.Context) (remoteMeta, error)
	// get opens the object from byte offset off (0: all of it). resumed
	// reports whether the server honoured off; if not the body starts at 0.
	get(ctx context.Context, off int64, etag string) (body io.ReadCloser, meta remoteMeta, resumed bool, err error)
	// where names the location for messages.
	where() string
}

var commitRev = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Fetch returns the digest of a remote source's bytes, downloading them
// into the store unless the fetch cache knows them; for an hf:// folder
// (format dir: a model repository) the digest of its manifest. A missing
// object is NotFound, a refused one (401, 403) FailedPrecondition, an
// unreachable server (after retries) Unavailable, a URI it cannot handle
// InvalidArgument. Nothing is published under a digest unless the whole
// object was read.
func (f *Fetcher) Fetch(ctx context.Context, src *study.Source) (digest.Digest, error) {
	if !src.Remote() {
		return "", fmt.Errorf("source %s is local: %w", src.URI, errdefs.ErrInvalidArgument)
	}
	if src.Format == "dir" && strings.HasPrefix(src.URI, "hf://") {
		return f.fetchHFFolder(ctx, src) // a manifest of the folder's files
	}
	rem, immutable, err := f.resolve(src.URI)
	if err != nil {
		return "", err
	}
	name := "fetch/" + digest.FromString(src.URI).Encoded()
	var cached *cacheEntry
	if b, err := f.store.GetRecord(ctx, name); err == nil {
		var e cacheEntry
		if json.Unmarshal(b, &e) == nil && e.Digest.Validate() == nil && e.URI == src.URI {
			if _, err := f.store.Stat(ctx, e.Digest); err == nil {
				cached = &e
			}
		}
	} else if !errdefs.IsNotFound(err) {
		return "", fmt.Errorf("fetch cache %s: %w", src.URI, err)
	}
	if cached != nil {
		if immutable {
			return cached.Digest, nil
		}
		meta, err := f.retry(ctx, func() (remoteMeta, error) { return rem.head(ctx) })
		if err != nil {
			return "", fmt.Errorf("source %s: %w", src.URI, err)
		}
		if meta.matches(*cached) {
			return cached.Digest, nil
		}
	}
	e, err := f.download(ctx, src.URI, rem)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", src.URI, err)
	}
	b, _ := json.Marshal(e)
	// The cache only saves a download next time; the bytes are stored.
	_ = f.store.PutRecord(ctx, name, b)
	return e.Digest, nil
}

// resolve maps a URI to its remote and whether its bytes can never change.
func (f *Fetcher) resolve(uri string) (remote, bool, error) {
	switch {
	case strings.HasPrefix(uri, "https://"), strings.HasPrefix(uri, "http://"):
		return &httpRemote{client: f.opts.client, url: uri}, false, nil
	case strings.HasPrefix(uri, "hf://"):
		url, rev, err := HFURL(f.opts.hfEndpoint, uri)
		if err != nil {
			return nil, false, err
		}
		return &httpRemote{client: f.opts.client, url: url, token: f.opts.hfToken}, commitRev.MatchString(rev), nil
	case strings.HasPrefix(uri, "s3://"):
		r, err := newS3Remote(f.opts.s3, uri)
		return r, false, err
	}
	return nil, false, fmt.Errorf("source %s: unsupported scheme: %w", uri, errdefs.ErrInvalidArgument)
}

// HFURL resolves hf://datasets/OWNER/NAME@REVISION/PATH (or a model's
// hf://OWNER/NAME@REVISION/PATH) against endpoint to the file's download
// URL {endpoint}/datasets/OWNER/NAME/resolve/REVISION/PATH, and returns
// the revision too. A URI without a revision or a file is InvalidArgument.
func HFURL(endpoint, uri string) (string, string, error) {
	rest, ok := strings.CutPrefix(uri, "hf://")
	if !ok {
		return "", "", fmt.Errorf("%s is not an hf:// URI: %w", uri, errdefs.ErrInvalidArgument)
	}
	kind := ""
	if r, ok := strings.CutPrefix(rest, "datasets/"); ok {
		kind, rest = "datasets/", r
	}
	parts := strings.SplitN(rest, "/", 3)
	if len(parts) < 3 || parts[0] == "" || parts[2] == "" {
		return "", "", fmt.Errorf("%s: want hf://datasets/OWNER/NAME@REVISION/PATH: %w", uri, errdefs.ErrInvalidArgument)
	}
	name, rev, found := strings.Cut(parts[1], "@")
	if !found || name == "" || rev == "" {
		return "", "", fmt.Errorf("%s: pin a revision (NAME@REVISION): %w", uri, errdefs.ErrInvalidArgument)
	}
	return strings.TrimRight(endpoint, "/") + "/" + kind + parts[0] + "/" + name + "/resolve/" + rev + "/" + parts[2], rev, nil
}

// download streams the object into the store, resuming after a broken
// connection from where it stopped (Range, If-Range) and retrying with
// exponential backoff.
func (f *Fetcher) download(ctx context.Context, uri string, rem remote) (cacheEntry, error) {
	w, err := f.store.Writer(ctx)
	if err != nil {
		return cacheEntry{}, err
	}
	defer w.Close() // no-op after Commit
	var (
		written int64
		meta    remoteMeta
		failed  int
		p       = f.newProgress(uri)
	)
	for {
		body, m, resumed, err := rem.get(ctx, written, meta.etag)
		if err == nil {
			if written > 0 && !resumed {
				// The server restarted from 0: start the blob again.
				w.Close()
				if w, err = f.store.Writer(ctx); err != nil {
					return cacheEntry{}, err
				}
				written = 0
			}
			if written == 0 {
				meta = m
			}
			var n int64
			n, err = io.Copy(w, &countingReader{r: body, done: written, p: p, total: meta.size})
			body.Close()
			written += n
			if err == nil && meta.size >= 0 && written < meta.size {
				err = io.ErrUnexpectedEOF // the connection ended early: resume
			}
			if err == nil {
				break
			}
			if n > 0 {
				failed = 0 // progress was made: the retry budget starts again
			}
			err = fmt.Errorf("read after %d bytes: %v: %w", written, err, errdefs.ErrUnavailable)
		}
		if !retryable(err) || ctx.Err() != nil {
			return cacheEntry{}, err
		}
		failed++
		if failed >= f.opts.attempts {
			return cacheEntry{}, err
		}
		if err := sleep(ctx, f.opts.backoff<<(failed-1)); err != nil {
			return cacheEntry{}, err
		}
	}
	p.finish(written)
	if meta.size >= 0 && written != meta.size {
		return cacheEntry{}, fmt.Errorf("got %d bytes of %d: %w", written, meta.size, errdefs.ErrUnavailable)
	}
	d := w.Digest()
	if err := w.Commit(ctx, written, d); err != nil && !errdefs.IsAlreadyExists(err) {
		return cacheEntry{}, err
	}
	return cacheEntry{URI: uri, URL: rem.where(), ETag: meta.etag, LastModified: meta.lastModified,
		Size: written, Digest: d, Fetched: time.Now().UTC()}, nil
}

// retry runs fn until it succeeds, fails for good, or the attempts run out.
func (f *Fetcher) retry(ctx context.Context, fn func() (remoteMeta, error)) (remoteMeta, error) {
	for i := 1; ; i++ {
		m, err := fn()
		if err == nil || !retryable(err) || i >= f.opts.attempts || ctx.Err() != nil {
			return m, err
		}
		if err := sleep(ctx, f.opts.backoff<<(i-1)); err != nil {
			return m, err
		}
	}
}

func retryable(err error) bool { return errdefs.IsUnavailable(err) }

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// countingReader reports download progress.
type countingReader struct {
	r     io.Reader
	done  int64
	total int64
	p     *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.done += int64(n)
	c.p.update(c.done, c.total)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%v: %w", err, errdefs.ErrUnavailable)
	}
	return n, err
}

// defaultClient gives up on a server that accepts a request but never
// answers; a slow body is fine.
func defaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: tr}
}
