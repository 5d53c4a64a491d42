package artifactstest

import (
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
)

// Harness is one fresh, empty store and its out-of-band access.
type Harness struct {
	// Store is the store under test; it must be empty.
	Store artifacts.Store
	// Corrupt overwrites a committed blob's bytes out of band, simulating
	// bit rot (data may have another length). It is required.
	Corrupt func(d digest.Digest, data []byte) error
	// LargeSize is the size of the streamed object of the Large subtest;
	// 0 means 1 GiB. A decorator over a backend that runs the full size
	// itself may stream less: it only adds per-read work, not per-size.
	LargeSize int64
}

// TestStore runs the conformance suite. newHarness is called once per
// subtest and must return an empty store; it should register its cleanup
// with t.Cleanup.
func TestStore(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"CommitMismatch", testCommitMismatch},
		{"Interrupted", testInterrupted},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Corrupt", testCorrupt},
		{"CorruptMaterialize", testCorruptMaterialize},
		{"Results", testResults},
		{"MissingBlobOnHit", testMissingBlobOnHit},
		{"PutResultRefusesMissing", testPutResultRefusesMissing},
		{"Records", testRecords},
		{"Refs", testRefs},
		{"Large1GiB", testLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Store == nil || h.Corrupt == nil {
				t.Fatal("harness lacks Store or Corrupt")
			}
			tc.fn(t, h)
		})
	}
}
