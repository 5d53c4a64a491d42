// Package s3test starts a real S3 server for tests: versitygw, serving a
// temporary folder on loopback.
//
// The binary is $VERSITYGW, else versitygw on PATH, else
// $(go env GOPATH)/bin/versitygw (where `go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0` puts it; .ci/run
// installs it). Without it, Start skips the test, except when CI=true:
// in CI a missing server fails the test.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Addr      string // 127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Dir       string // the posix folder: one subfolder per bucket

	buckets atomic.Int64
}

// Start runs versitygw on a free loopback port until the test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("s3test: no S3 server in CI: %v", err)
		}
		tb.Skipf("s3test: %v (set CI=true to make this a failure)", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &Server{AccessKey: "dagtest", SecretKey: "secret-" + hex.EncodeToString(b[:]), Dir: tb.TempDir()}
	for attempt := 0; ; attempt++ {
		err := s.start(tb, bin)
		if err == nil {
			return s
		}
		if attempt == 2 {
			tb.Fatalf("s3test: %v", err)
		}
	}
}

func (s *Server) start(tb testing.TB, bin string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.Addr = l.Addr().String()
	l.Close() // versitygw binds it next; a clash is retried by Start
	s.Endpoint = "http://" + s.Addr
	cmd := exec.Command(bin, "--port", s.Addr, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--health", "/health", "--quiet", "posix", s.Dir)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited: %s", out.String())
		default:
		}
		resp, err := http.Get(s.Endpoint + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				tb.Cleanup(stop)
				return nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("versitygw not healthy after 15s: %v: %s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Binary finds the versitygw executable.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found (install: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

// NewBucket returns the name of a new, empty bucket.
func (s *Server) NewBucket(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test-%d", s.buckets.Add(1))
	if err := s.Client(tb).MakeBucket(context.Background(), name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		tb.Fatalf("s3test: make bucket %s: %v", name, err)
	}
	return name
}

// Client is a plain minio-go client of the server, for out-of-band access.
func (s *Server) Client(tb testing.TB) *minio.Client {
	tb.Helper()
	c, err := minio.New(s.Addr, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
