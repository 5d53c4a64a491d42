package datasets

import (
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dagproject/dag/artifacts/s3"

	"github.com/dagproject/dag/errdefs"
)

type fetchOptions struct {
	hfEndpoint string
	hfToken    string
	s3         s3.Config
	client     *http.Client
	attempts   int
	backoff    time.Duration
	progress   io.Writer
	every      time.Duration
}

// FetchOption configures a Fetcher.
type FetchOption func(*fetchOptions) error

// WithHFEndpoint sets where hf:// URIs resolve. Default https://huggingface.co.
func WithHFEndpoint(url string) FetchOption {
	return func(o *fetchOptions) error {
		if url == "" {
			return fmt.Errorf("hf endpoint: empty: %w", errdefs.ErrInvalidArgument)
		}
		o.hfEndpoint = url
		return nil
	}
}

// WithHFToken sends a bearer token with hf:// requests (gated datasets).
// Default none.
func WithHFToken(token string) FetchOption {
	return func(o *fetchOptions) error { o.hfToken = token; return nil }
}

// WithS3 sets how s3:// sources are reached: the store's settings.
// Default: anonymous requests to AWS.
func WithS3(cfg s3.Config) FetchOption {
	return func(o *fetchOptions) error { o.s3 = cfg; return nil }
}

// WithHTTPClient sets the client for https:// and hf://. Default a client
// on http.DefaultTransport.
func WithHTTPClient(c *http.Client) FetchOption {
	return func(o *fetchOptions) error {
		if c == nil {
			return fmt.Errorf("http client: nil: %w", errdefs.ErrInvalidArgument)
		}
		o.client = c
		return nil
	}
}

// WithRetry sets how many times a request is tried and the first backoff
// (doubled after each failure). Default 4 attempts from 300ms.
func WithRetry(attempts int, backoff time.Duration) FetchOption {
	return func(o *fetchOptions) error {
		if attempts < 1 || backoff < 0 {
			return fmt.Errorf("retry: attempts %d, backoff %v: %w", attempts, backoff, errdefs.ErrInvalidArgument)
		}
		o.attempts, o.backoff = attempts, backoff
		return nil
	}
}

// WithProgress writes a download's bytes/total to w every interval while
// it runs, and once when it ends. Default none.
func WithProgress(w io.Writer, every time.Duration) FetchOption {
	return func(o *fetchOptions) error {
		if every <= 0 {
			return fmt.Errorf("progress interval %v: %w", every, errdefs.ErrInvalidArgument)
		}
		o.progress, o.every = w, every
		return nil
	}
}

// progress prints one download's advance.
type progress struct {
	w     io.Writer
	uri   string
	every time.Duration
	last  time.Time
	start time.Time
	total int64
}

func (f *Fetcher) newProgress(uri string) *progress {
	now := time.Now()
	return &progress{w: f.opts.progress, uri: uri, every: f.opts.every, last: now, start: now}
}

func (p *progress) update(done, total int64) {
	if p.w == nil {
		return
	}
	p.total = total
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		fmt.Fprintf(p.w, "fetch %s: %s\n", p.uri, sizes(done, total))
	}
}

func (p *progress) finish(done int64) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "fetched %s: %s in %s\n", p.uri, sizes(done, -1), time.Since(p.start).Round(time.Millisecond))
}

func sizes(done, total int64) string {
	mib := func(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
	if total <= 0 {
		return mib(done)
	}
	return fmt.Sprintf("%s / %s (%d%%)", mib(done), mib(total), done*100/total)
}
