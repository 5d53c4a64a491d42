package s3

import (
	"fmt"
	"strings"
	"time"

	"github.com/dagproject/dag/errdefs"
)

// Limits of the S3 protocol the store designs around.
const (
	minPartSize   = 5 << 20 // smallest part but the last
	maxParts      = 10000
	maxCopyObject = 5 << 30 // CopyObject's limit; larger blobs are composed
)

type options struct {
	prefix       string
	accessKey    string
	secretKey    string
	sessionToken string
	insecure     bool
	region       string
	partSize     int64
	concurrency  int
	createBucket bool
	retry        retryPolicy
}

func defaultOptions() options {
	return options{
		region:      "us-east-1",
		partSize:    16 << 20,
		concurrency: 4,
		retry:       retryPolicy{attempts: 5, base: 100 * time.Millisecond, max: 5 * time.Second},
	}
}

// Option configures Open.
type Option func(*options) error

// WithPrefix stores everything under prefix inside the bucket (a folder-like
// path such as "team/cache"; surrounding slashes are ignored). Default: the
// bucket's root.
func WithPrefix(prefix string) Option {
	return func(o *options) error {
		p := strings.Trim(prefix, "/")
		if strings.Contains(p, "//") {
			return fmt.Errorf("prefix %q: empty segment: %w", prefix, errdefs.ErrInvalidArgument)
		}
		if p != "" {
			p += "/"
		}
		o.prefix = p
		return nil
	}
}

// WithCredentials signs requests with a static access key pair (and an
// optional session token). Default: anonymous requests.
func WithCredentials(accessKey, secretKey, sessionToken string) Option {
	return func(o *options) error {
		if (accessKey == "") != (secretKey == "") {
			return fmt.Errorf("credentials: access key and secret key go together: %w", errdefs.ErrInvalidArgument)
		}
		o.accessKey, o.secretKey, o.sessionToken = accessKey, secretKey, sessionToken
		return nil
	}
}

// WithInsecure speaks plain HTTP instead of HTTPS. Default: HTTPS.
func WithInsecure(insecure bool) Option {
	return func(o *options) error {
		o.insecure = insecure
		return nil
	}
}

// WithRegion sets the region requests are signed for. Default: us-east-1.
func WithRegion(region string) Option {
	return func(o *options) error {
		if region == "" {
			return fmt.Errorf("region: empty: %w", errdefs.ErrInvalidArgument)
		}
		o.region = region
		return nil
	}
}

// WithPartSize sets the size of multipart upload parts, which is also what
// a write buffers per part in flight, and the largest blob written with a
// single PUT. It must be at least 5 MiB. Default: 16 MiB.
func WithPartSize(n int64) Option {
	return func(o *options) error {
		if n < minPartSize || n > maxCopyObject {
			return fmt.Errorf("part size %d: want 5 MiB .. 5 GiB: %w", n, errdefs.ErrInvalidArgument)
		}
		o.partSize = n
		return nil
	}
}

// WithConcurrency sets how many parts one write uploads at once (and so
// holds in memory, with one more being filled). Default: 4.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return fmt.Errorf("concurrency %d: want >= 1: %w", n, errdefs.ErrInvalidArgument)
		}
		o.concurrency = n
		return nil
	}
}

// WithCreateBucket makes Open create the bucket when it does not exist.
// Default: a missing bucket is ErrNotFound.
func WithCreateBucket(create bool) Option {
	return func(o *options) error {
		o.createBucket = create
		return nil
	}
}

// WithRetry sets how transient failures (ErrUnavailable: 5xx, throttling,
// network errors) are retried: attempts tries in all, backing off
// exponentially from base, with jitter. Default: 5 attempts from 100ms,
// capped at 5s.
func WithRetry(attempts int, base time.Duration) Option {
	return func(o *options) error {
		if attempts < 1 || base < 0 {
			return fmt.Errorf("retry: attempts %d, base %v: %w", attempts, base, errdefs.ErrInvalidArgument)
		}
		o.retry.attempts, o.retry.base = attempts, base
		if o.retry.max < base {
			o.retry.max = base
		}
		return nil
	}
}
