package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/dagproject/dag/artifacts/s3"

	"github.com/minio/minio-go/v7"

	"github.com/dagproject/dag/errdefs"
)

// s3Remote is s3://BUCKET/KEY.
type s3Remote struct {
	c           *minio.Client
	bucket, key string
}

func newS3Remote(cfg s3.Config, uri string) (*s3Remote, error) {
	rest := strings.TrimPrefix(uri, "s3://")
	bucket, key, _ := strings.Cut(rest, "/")
	if bucket == "" || key == "" {
		return nil, fmt.Errorf("source %s: want s3://BUCKET/KEY: %w", uri, errdefs.ErrInvalidArgument)
	}
	c, err := s3.NewClient(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", uri, err)
	}
	return &s3Remote{c: c, bucket: bucket, key: key}, nil
}

func (s *s3Remote) where() string { return "s3://" + s.bucket + "/" + s.key }

func (s *s3Remote) head(ctx context.Context) (remoteMeta, error) {
	info, err := s.c.StatObject(ctx, s.bucket, s.key, minio.StatObjectOptions{})
	if err != nil {
		return remoteMeta{}, s3Error(s.where(), err)
	}
	return remoteMeta{etag: info.ETag, lastModified: info.LastModified.UTC().Format(http.TimeFormat), size: info.Size}, nil
}

func (s *s3Remote) get(ctx context.Context, off int64, etag string) (io.ReadCloser, remoteMeta, bool, error) {
	m, err := s.head(ctx)
	if err != nil {
		return nil, m, false, err
	}
	opts := minio.GetObjectOptions{}
	resumed := off > 0 && (etag == "" || etag == m.etag)
	if resumed {
		if err := opts.SetRange(off, 0); err != nil {
			return nil, m, false, fmt.Errorf("%s: %v: %w", s.where(), err, errdefs.ErrInvalidArgument)
		}
	}
	obj, err := s.c.GetObject(ctx, s.bucket, s.key, opts)
	if err != nil {
		return nil, m, false, s3Error(s.where(), err)
	}
	return obj, m, resumed || off == 0, nil
}

// s3Error classes S3 failures like the S3 artifact store does.
func s3Error(where string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	r := minio.ToErrorResponse(err)
	switch {
	case r.Code == "NoSuchKey" || r.Code == "NoSuchBucket" || r.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%s: %v: %w", where, err, errdefs.ErrNotFound)
	case r.StatusCode == http.StatusForbidden || r.StatusCode == http.StatusUnauthorized || r.Code == "AccessDenied":
		return fmt.Errorf("%s: %v: %w", where, err, errdefs.ErrFailedPrecondition)
	case r.StatusCode >= 400 && r.StatusCode < 500 && r.StatusCode != http.StatusTooManyRequests && r.StatusCode != http.StatusRequestTimeout:
		return fmt.Errorf("%s: %v: %w", where, err, errdefs.ErrInvalidArgument)
	}
	return fmt.Errorf("%s: %v: %w", where, err, errdefs.ErrUnavailable)
}

var _ remote = (*s3Remote)(nil)
