package s3

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/dagproject/dag/errdefs"
)

// DefaultEndpoint is AWS's S3 endpoint, used when Config.Endpoint is
// empty.
const DefaultEndpoint = "s3.amazonaws.com"

// Config is how to reach an S3 endpoint. The store and s3:// dataset
// sources use the same one (docs/cli.md, "Settings"), parsed once from the
// environment by the command.
type Config struct {
	// Endpoint is host:port, or a URL whose http scheme means Insecure;
	// empty is DefaultEndpoint.
	Endpoint     string
	AccessKey    string // empty: anonymous requests
	SecretKey    string
	SessionToken string
	// Region requests are signed for; empty is us-east-1.
	Region string
	// Insecure speaks plain HTTP.
	Insecure bool
}

// Options are c's settings as options of Open.
func (c Config) Options() []Option {
	opts := []Option{WithCredentials(c.AccessKey, c.SecretKey, c.SessionToken), WithInsecure(c.Insecure)}
	if c.Region != "" {
		opts = append(opts, WithRegion(c.Region))
	}
	return opts
}

// EndpointOrDefault is c.Endpoint, or DefaultEndpoint when it is empty.
func (c Config) EndpointOrDefault() string {
	if c.Endpoint == "" {
		return DefaultEndpoint
	}
	return c.Endpoint
}

// NewClient is a minio client for c: path-style buckets, static or
// anonymous credentials, one attempt per call (callers retry with their
// own classification). transport nil is minio's default. A bad endpoint is
// InvalidArgument.
func NewClient(c Config, transport http.RoundTripper) (*minio.Client, error) {
	o := defaultOptions()
	for _, opt := range c.Options() {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return newMinio(c.EndpointOrDefault(), o, transport)
}

// newMinio builds the client of an endpoint ("host:port" or an http(s)
// URL, whose scheme overrides o.insecure) and options; both Open and
// NewClient come here, so the store and the sources agree on every
// default.
func newMinio(endpoint string, o options, transport http.RoundTripper) (*minio.Client, error) {
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("s3 endpoint %q has a path: %w", endpoint, errdefs.ErrInvalidArgument)
		}
		endpoint, o.insecure = u.Host, u.Scheme == "http"
	}
	if endpoint == "" {
		return nil, fmt.Errorf("s3 endpoint: empty: %w", errdefs.ErrInvalidArgument)
	}
	creds := credentials.New(&credentials.Static{}) // anonymous
	if o.accessKey != "" {
		creds = credentials.NewStaticV4(o.accessKey, o.secretKey, o.sessionToken)
	}
	c, err := minio.New(endpoint, &minio.Options{
		Creds:        creds,
		Secure:       !o.insecure,
		Transport:    transport,
		Region:       o.region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 endpoint %s: %w: %v", endpoint, errdefs.ErrInvalidArgument, err)
	}
	return c, nil
}
