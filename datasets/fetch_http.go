package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/dagproject/dag/errdefs"
)

// httpRemote is an https:// (or http://) URL; hf:// resolves to one.
type httpRemote struct {
	client *http.Client
	url    string
	token  string // bearer token (hf:// only); empty means none
}

func (h *httpRemote) where() string { return h.url }

func (h *httpRemote) request(ctx context.Context, method string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, h.url, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", h.url, err, errdefs.ErrInvalidArgument)
	}
	if h.token != "" {
		req.Header.Set("Authorization", "Bearer "+h.token)
	}
	return req, nil
}

func (h *httpRemote) head(ctx context.Context) (remoteMeta, error) {
	req, err := h.request(ctx, http.MethodHead)
	if err != nil {
		return remoteMeta{}, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return remoteMeta{}, netError(h.url, err)
	}
	resp.Body.Close()
	if err := statusError(h.url, resp); err != nil {
		return remoteMeta{}, err
	}
	return metaOf(resp), nil
}

func (h *httpRemote) get(ctx context.Context, off int64, etag string) (io.ReadCloser, remoteMeta, bool, error) {
	req, err := h.request(ctx, http.MethodGet)
	if err != nil {
		return nil, remoteMeta{}, false, err
	}
	if off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
		if etag != "" {
			req.Header.Set("If-Range", etag)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, remoteMeta{}, false, netError(h.url, err)
	}
	if err := statusError(h.url, resp); err != nil {
		resp.Body.Close()
		return nil, remoteMeta{}, false, err
	}
	m := metaOf(resp)
	if resp.StatusCode == http.StatusPartialContent {
		if m.size >= 0 {
			m.size += off
		}
		return resp.Body, m, true, nil
	}
	return resp.Body, m, off == 0, nil
}

func metaOf(resp *http.Response) remoteMeta {
	m := remoteMeta{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"), size: resp.ContentLength}
	// Hugging Face redirects LFS files; its own ETag names the content.
	if e := resp.Header.Get("X-Linked-Etag"); e != "" {
		m.etag = e
	}
	return m
}

// statusError maps an HTTP status to an error class: 404 NotFound,
// 401/403 FailedPrecondition (a gated or private file needs a token),
// 408/429/5xx Unavailable, other 4xx InvalidArgument.
func statusError(url string, resp *http.Response) error {
	c := resp.StatusCode
	switch {
	case c < 300:
		return nil
	case c == http.StatusNotFound:
		return fmt.Errorf("%s: %s: %w", url, resp.Status, errdefs.ErrNotFound)
	case c == http.StatusUnauthorized || c == http.StatusForbidden:
		return fmt.Errorf("%s: %s (a gated or private file needs a token): %w", url, resp.Status, errdefs.ErrFailedPrecondition)
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		return fmt.Errorf("%s: %s: %w", url, resp.Status, errdefs.ErrUnavailable)
	}
	return fmt.Errorf("%s: %s: %w", url, resp.Status, errdefs.ErrInvalidArgument)
}

// netError classes a transport failure as Unavailable, keeping context
// errors as they are.
func netError(url string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return fmt.Errorf("%s: unknown host %s: %w", url, dns.Name, errdefs.ErrUnavailable)
	}
	return fmt.Errorf("%s: %v: %w", url, err, errdefs.ErrUnavailable)
}

var _ remote = (*httpRemote)(nil)
