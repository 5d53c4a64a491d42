package s3

import (
	"testing"

	"github.com/dagproject/dag/errdefs"
)

// TestConfigClient checks the defaults the store and s3:// sources share:
// AWS when no endpoint is given, an http URL meaning plain HTTP, a path in
// the endpoint refused.
func TestConfigClient(t *testing.T) {
	for _, tc := range []struct {
		cfg    Config
		host   string
		secure bool
	}{
		{Config{}, DefaultEndpoint, true},
		{Config{Endpoint: "127.0.0.1:7070", Insecure: true}, "127.0.0.1:7070", false},
		{Config{Endpoint: "http://127.0.0.1:7070"}, "127.0.0.1:7070", false},
		{Config{Endpoint: "https://minio.example:9000", Insecure: true}, "minio.example:9000", true},
	} {
		c, err := NewClient(tc.cfg, nil)
		if err != nil {
			t.Fatalf("%+v: %v", tc.cfg, err)
		}
		u := c.EndpointURL()
		if u.Host != tc.host || (u.Scheme == "https") != tc.secure {
			t.Errorf("%+v: endpoint %s, want host %s secure %v", tc.cfg, u, tc.host, tc.secure)
		}
	}
	if _, err := NewClient(Config{Endpoint: "http://h:1/bucket"}, nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("an endpoint with a path: %v, want InvalidArgument", err)
	}
	if _, err := NewClient(Config{AccessKey: "a"}, nil); !errdefs.IsInvalidArgument(err) {
		t.Errorf("an access key without a secret: %v, want InvalidArgument", err)
	}
}
