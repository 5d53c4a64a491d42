package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// maxRecordSize bounds GetRecord: records are small documents.
const maxRecordSize = 64 << 20

// recordKey is the object key of the record name; an invalid name is
// ErrInvalidArgument.
func (s *store) recordKey(name string) (string, error) {
	if err := artifacts.ValidRecordName(name); err != nil {
		return "", err
	}
	return s.opts.prefix + recordsDir + name, nil
}

// GetRecord GETs the record's object.
func (s *store) GetRecord(ctx context.Context, name string) ([]byte, error) {
	key, err := s.recordKey(name)
	if err != nil {
		return nil, err
	}
	var b []byte
	err = s.opts.retry.do(ctx, func() error {
		rc, _, _, err := s.core.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
		if err != nil {
			return classify("GetObject", key, err)
		}
		defer rc.Close()
		b, err = io.ReadAll(io.LimitReader(rc, maxRecordSize+1))
		if err != nil {
			return classify("GetObject", key, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get record %s: %w", name, err)
	}
	if len(b) > maxRecordSize {
		return nil, fmt.Errorf("get record %s: over %d bytes: %w", name, maxRecordSize, errdefs.ErrFailedPrecondition)
	}
	return b, nil
}

// PutRecord PUTs the record's object: S3 replaces objects atomically. A
// record whose name the server cannot hold beside others (a POSIX-backed
// server where "a" is already a folder of "a/b") is ErrFailedPrecondition.
func (s *store) PutRecord(ctx context.Context, name string, data []byte) error {
	key, err := s.recordKey(name)
	if err != nil {
		return err
	}
	sum := sha256Hex(data)
	err = s.opts.retry.do(ctx, func() error {
		_, err := s.core.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), "", sum,
			minio.PutObjectOptions{ContentType: "application/octet-stream"})
		return classify("PutObject", key, err)
	})
	if err != nil {
		if errdefs.IsInvalidArgument(err) {
			return fmt.Errorf("put record %s: %w: %v", name, errdefs.ErrFailedPrecondition, err)
		}
		return fmt.Errorf("put record %s: %w", name, err)
	}
	return nil
}

// DeleteRecord checks the record exists (S3 deletes are idempotent), then
// removes it.
func (s *store) DeleteRecord(ctx context.Context, name string) error {
	key, err := s.recordKey(name)
	if err != nil {
		return err
	}
	err = s.opts.retry.do(ctx, func() error {
		_, err := s.core.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		return classify("HeadObject", key, err)
	})
	if err != nil {
		return fmt.Errorf("delete record %s: %w", name, err)
	}
	if err := s.remove(ctx, key); err != nil {
		return fmt.Errorf("delete record %s: %w", name, err)
	}
	return nil
}

// WalkRecords lists records/<prefix> and reports the names in byte order.
// A prefix whose folder part is not a valid record name is
// ErrInvalidArgument.
func (s *store) WalkRecords(ctx context.Context, prefix string, fn func(name string) error) error {
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		if err := artifacts.ValidRecordName(prefix[:i]); err != nil {
			return fmt.Errorf("walk records %q: %w", prefix, err)
		}
	}
	base := s.opts.prefix + recordsDir
	var names []string
	err := s.list(ctx, base+prefix, func(oi minio.ObjectInfo, _ string) error {
		name := strings.TrimPrefix(oi.Key, base)
		if artifacts.ValidRecordName(name) == nil {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk records %q: %w", prefix, err)
	}
	return artifacts.VisitSorted(ctx, names, fn)
}
