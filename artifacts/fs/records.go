package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// recordPath is the file of the record name; an invalid name is
// ErrInvalidArgument.
func (s *store) recordPath(name string) (string, error) {
	if err := artifacts.ValidRecordName(name); err != nil {
		return "", err
	}
	return filepath.Join(s.records, filepath.FromSlash(name)), nil
}

// GetRecord reads the record's file. A name whose file is a folder (because
// longer names live below it) is ErrNotFound.
func (s *store) GetRecord(ctx context.Context, name string) ([]byte, error) {
	p, err := s.recordPath(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, syscall.EISDIR) {
		return nil, fmt.Errorf("get record %s: %w", name, errdefs.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get record %s: %w", name, class(err))
	}
	return b, nil
}

// PutRecord writes a staging file under ingest/, fsyncs it and renames it
// over the record. A record cannot be both a document and a folder of
// others: a name where a folder is, or below another record, is
// ErrFailedPrecondition.
func (s *store) PutRecord(ctx context.Context, name string, data []byte) error {
	p, err := s.recordPath(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, iofs.ErrExist) {
			return fmt.Errorf("put record %s: a record is in the way: %w", name, errdefs.ErrFailedPrecondition)
		}
		return fmt.Errorf("put record %s: %w", name, err)
	}
	f, err := os.CreateTemp(s.ingest, "record-*")
	if err != nil {
		return fmt.Errorf("put record %s: %w", name, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // best effort; after the rename it is already gone
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("put record %s: %w", name, err)
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return fmt.Errorf("put record %s: records exist below it: %w", name, errdefs.ErrFailedPrecondition)
	}
	if err := os.Rename(tmp, p); err != nil {
		if errors.Is(err, syscall.EISDIR) || errors.Is(err, iofs.ErrExist) || errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("put record %s: %w: %v", name, errdefs.ErrFailedPrecondition, err)
		}
		return fmt.Errorf("put record %s: %w", name, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("put record %s: %w", name, err)
	}
	return nil
}

// DeleteRecord removes the record's file (never a folder).
func (s *store) DeleteRecord(ctx context.Context, name string) error {
	p, err := s.recordPath(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("delete record %s: %w", name, class(err))
	}
	if fi.IsDir() {
		return fmt.Errorf("delete record %s: %w", name, errdefs.ErrNotFound)
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("delete record %s: %w", name, class(err))
	}
	return nil
}

// WalkRecords walks the deepest folder that prefix names and reports, in
// sorted order, the records whose names start with prefix. A prefix whose
// folder part is not a valid record name is ErrInvalidArgument.
func (s *store) WalkRecords(ctx context.Context, prefix string, fn func(name string) error) error {
	start := s.records
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		p, err := s.recordPath(prefix[:i])
		if err != nil {
			return fmt.Errorf("walk records %q: %w", prefix, err)
		}
		start = p
	}
	var names []string
	err := filepath.WalkDir(start, func(p string, de iofs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)) {
				return filepath.SkipAll // nothing below prefix
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !de.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.records, p)
		if err != nil {
			return err
		}
		if name := filepath.ToSlash(rel); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk records %q: %w", prefix, err)
	}
	return artifacts.VisitSorted(ctx, names, fn)
}
