package artifacts

import (
	"context"
	"io"
	"time"

	"github.com/opencontainers/go-digest"
)

// Info describes a stored blob.
type Info struct {
	Digest    digest.Digest
	Size      int64
	CreatedAt time.Time // when the blob was committed; zero if the backend does not know
}

// Provider opens blobs by digest.
type Provider interface {
	// Open returns a reader over the blob's bytes that verifies them as it
	// goes: the Read that reaches the end returns an ErrDataLoss-class error
	// if the bytes do not hash to dgst (or their size differs from the
	// committed size). A missing blob is ErrNotFound. The caller must Close.
	Open(ctx context.Context, dgst digest.Digest) (io.ReadCloser, error)
}

// InfoProvider reports on blobs without reading them.
type InfoProvider interface {
	// Stat returns the blob's Info, or ErrNotFound.
	Stat(ctx context.Context, dgst digest.Digest) (Info, error)
}

// Ingester starts blob writes.
type Ingester interface {
	// Writer starts a new write. Nothing becomes visible under any digest
	// until Commit succeeds.
	Writer(ctx context.Context) (Writer, error)
}

// Writer streams one blob into the store, hashing (sha256) as it writes.
type Writer interface {
	io.Writer
	// Digest is the digest of the bytes written so far.
	Digest() digest.Digest
	// Commit verifies and publishes the blob. size < 0 and expected == ""
	// skip the respective checks. A size or digest mismatch is
	// ErrFailedPrecondition and publishes nothing; a blob already present is
	// ErrAlreadyExists (the bytes are identical by construction). Commit
	// always releases the writer's resources, whatever it returns.
	Commit(ctx context.Context, size int64, expected digest.Digest) error
	// Close abandons an uncommitted write and removes what it staged; after
	// Commit it is a no-op.
	Close() error
}

// Walker lists blobs.
type Walker interface {
	// Walk calls fn for every committed blob, in no particular order, and
	// stops at the first error fn returns.
	Walk(ctx context.Context, fn func(Info) error) error
}

// Deleter removes blobs.
type Deleter interface {
	// Delete removes a blob; a missing blob is ErrNotFound.
	Delete(ctx context.Context, dgst digest.Digest) error
}

// Records holds small named documents: action results and refs. Names are
// slash-separated paths of [A-Za-z0-9._:+@=-] segments (see ValidRecordName).
// Records are not content-addressed: a Put replaces the whole document
// atomically, so readers see either the old or the new bytes, never a mix.
type Records interface {
	// GetRecord returns the record's bytes, or ErrNotFound.
	GetRecord(ctx context.Context, name string) ([]byte, error)
	// PutRecord writes (or replaces) the record atomically.
	PutRecord(ctx context.Context, name string, data []byte) error
	// DeleteRecord removes the record; a missing one is ErrNotFound.
	DeleteRecord(ctx context.Context, name string) error
	// WalkRecords calls fn with the name of every record under prefix
	// (a folder-like prefix such as "results/"), sorted by name.
	WalkRecords(ctx context.Context, prefix string, fn func(name string) error) error
}

// Store is a content-addressed blob store plus its records.
type Store interface {
	Provider
	InfoProvider
	Ingester
	Walker
	Deleter
	Records
}
