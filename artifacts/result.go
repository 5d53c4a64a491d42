package artifacts

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

// maxPreimageSize bounds GetPreimage: a canonical node description is a few
// kilobytes; anything near this is not a preimage.
const maxPreimageSize = 16 << 20

// statWorkers is how many Stat calls PutResult and GetResult run at once
// (they matter for remote backends, where each is a round trip).
const statWorkers = 8

// Result is the record stored under a node's key once the node succeeded.
// Every output is a folder: the digest of its Manifest.
type Result struct {
	Key      digest.Digest            `json:"key"`
	Node     string                   `json:"node,omitempty"` // node ID, for humans
	Outputs  map[string]digest.Digest `json:"outputs"`        // output name -> manifest digest
	Producer Producer                 `json:"producer"`
	Started  time.Time                `json:"started"`
	Finished time.Time                `json:"finished"`
}

// Producer says who produced a Result. Every field is informational and
// may be empty; none is part of the key.
type Producer struct {
	Plugin       string        `json:"plugin,omitempty"`
	PluginDigest digest.Digest `json:"plugin_digest,omitempty"`
	Host         string        `json:"host,omitempty"`
	// Worker is the identity of the worker that ran the node, with the
	// queues it served.
	Worker string `json:"worker,omitempty"`
	Run    string `json:"run,omitempty"`
}

// PutPreimage stores a node's canonical description as a blob and returns
// the node's key, which is by definition the sha256 digest of preimage.
// Storing a preimage twice succeeds.
func PutPreimage(ctx context.Context, s Ingester, preimage []byte) (digest.Digest, error) {
	d, err := PutBytes(ctx, s, preimage)
	if err != nil {
		return "", fmt.Errorf("put preimage: %w", err)
	}
	return d, nil
}

// GetPreimage returns the verified preimage of key: ErrInvalidArgument for an
// invalid key, ErrNotFound when it is not stored, ErrDataLoss when its bytes
// are corrupt, ErrFailedPrecondition when the blob exceeds 16 MiB.
func GetPreimage(ctx context.Context, p Provider, key digest.Digest) ([]byte, error) {
	b, err := ReadAll(ctx, p, key, maxPreimageSize)
	if err != nil {
		return nil, fmt.Errorf("get preimage: %w", err)
	}
	return b, nil
}

// PutResult records r under r.Key, replacing any earlier result for the key.
//
// It is the last write of a node: it first checks that the preimage blob
// (r.Key), every output manifest and every blob those manifests name are
// stored, and refuses with ErrFailedPrecondition if one is missing. A
// manifest that does not decode or validate is ErrInvalidArgument, one whose
// bytes are corrupt ErrDataLoss. An invalid key, output digest or plugin
// digest, or an empty output name, is ErrInvalidArgument. The record is
// named "results/<alg>/<hex>". A nil Outputs is stored as an empty map.
func PutResult(ctx context.Context, s Store, r Result) error {
	name, err := resultName(r.Key)
	if err != nil {
		return fmt.Errorf("put result: %w", err)
	}
	if r.Producer.PluginDigest != "" {
		if err := r.Producer.PluginDigest.Validate(); err != nil {
			return fmt.Errorf("put result %s: plugin digest: %w: %v", r.Key, errdefs.ErrInvalidArgument, err)
		}
	}
	for out, d := range r.Outputs {
		if out == "" {
			return fmt.Errorf("put result %s: empty output name: %w", r.Key, errdefs.ErrInvalidArgument)
		}
		if err := d.Validate(); err != nil {
			return fmt.Errorf("put result %s: output %q: %w: %v", r.Key, out, errdefs.ErrInvalidArgument, err)
		}
	}
	if err := checkResultBlobs(ctx, s, r); err != nil {
		if errdefs.IsNotFound(err) {
			// Not a miss here: the caller broke "blobs first, result last".
			return fmt.Errorf("put result %s: %w: %v", r.Key, errdefs.ErrFailedPrecondition, err)
		}
		return fmt.Errorf("put result %s: %w", r.Key, err)
	}
	if r.Outputs == nil {
		r.Outputs = map[string]digest.Digest{}
	}
	b, err := json.Marshal(r) // map keys are sorted: the bytes are stable
	if err != nil {
		return fmt.Errorf("put result %s: encode: %w", r.Key, err)
	}
	if err := s.PutRecord(ctx, name, b); err != nil {
		return fmt.Errorf("put result %s: %w", r.Key, err)
	}
	return nil
}

// GetResult returns the result recorded under key, after checking that every
// blob it names (its preimage, its output manifests and every blob they list)
// is still stored. Absence of the record or of any such blob is ErrNotFound:
// a result whose blobs are gone is a miss, to be produced again. Corrupt
// manifest bytes are ErrDataLoss (re-producing cannot replace a blob that is
// present, so the blob must be deleted first); a record that does not decode
// or names another key is ErrDataLoss too. An invalid key is
// ErrInvalidArgument. Entry blobs are checked for presence only; their bytes
// are verified when they are read. A nil Outputs comes back as an empty map.
func GetResult(ctx context.Context, s Store, key digest.Digest) (Result, error) {
	r, err := PeekResult(ctx, s, key)
	if err != nil {
		return Result{}, err
	}
	if err := checkResultBlobs(ctx, s, r); err != nil {
		return Result{}, fmt.Errorf("get result %s: %w", key, err)
	}
	return r, nil
}

// PeekResult returns the result recorded under key without checking that
// its blobs are stored, for what only reads the record (who produced it,
// when): ErrNotFound without a record, ErrDataLoss when it does not
// decode or names another key.
func PeekResult(ctx context.Context, s Records, key digest.Digest) (Result, error) {
	name, err := resultName(key)
	if err != nil {
		return Result{}, fmt.Errorf("get result: %w", err)
	}
	b, err := s.GetRecord(ctx, name)
	if err != nil {
		return Result{}, fmt.Errorf("get result %s: %w", key, err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("get result %s: decode: %w: %v", key, errdefs.ErrDataLoss, err)
	}
	if r.Key != key {
		return Result{}, fmt.Errorf("get result %s: record names key %q: %w", key, r.Key, errdefs.ErrDataLoss)
	}
	for out, d := range r.Outputs {
		if err := d.Validate(); err != nil {
			return Result{}, fmt.Errorf("get result %s: output %q: %w: %v", key, out, errdefs.ErrDataLoss, err)
		}
	}
	if r.Outputs == nil {
		r.Outputs = map[string]digest.Digest{}
	}
	return r, nil
}

// DeleteResult removes the result recorded under key (not its blobs): a
// missing one is ErrNotFound, an invalid key ErrInvalidArgument.
func DeleteResult(ctx context.Context, s Records, key digest.Digest) error {
	name, err := resultName(key)
	if err != nil {
		return fmt.Errorf("delete result: %w", err)
	}
	if err := s.DeleteRecord(ctx, name); err != nil {
		return fmt.Errorf("delete result %s: %w", key, err)
	}
	return nil
}

// resultName is the record name of key's result.
func resultName(key digest.Digest) (string, error) {
	if err := key.Validate(); err != nil {
		return "", fmt.Errorf("key %q: %w: %v", key, errdefs.ErrInvalidArgument, err)
	}
	return resultsPrefix + key.Algorithm().String() + "/" + key.Encoded(), nil
}

// checkResultBlobs checks that everything r names is stored; a missing blob
// is ErrNotFound.
func checkResultBlobs(ctx context.Context, s Store, r Result) error {
	if _, err := s.Stat(ctx, r.Key); err != nil {
		return fmt.Errorf("preimage %s: %w", r.Key, err)
	}
	outs := make([]string, 0, len(r.Outputs))
	for out := range r.Outputs {
		outs = append(outs, out)
	}
	sort.Strings(outs)
	seen := map[digest.Digest]bool{}
	var blobs []digest.Digest
	for _, out := range outs {
		m, err := ReadManifest(ctx, s, r.Outputs[out])
		if err != nil {
			return fmt.Errorf("output %q: %w", out, err)
		}
		for _, e := range m.Entries {
			if e.Link == "" && !seen[e.Digest] {
				seen[e.Digest] = true
				blobs = append(blobs, e.Digest)
			}
		}
	}
	return statAll(ctx, s, blobs)
}

// statAll Stats every blob with a few workers and returns the first error.
func statAll(ctx context.Context, s InfoProvider, blobs []digest.Digest) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan digest.Digest)
	for range min(statWorkers, len(blobs)) {
		wg.Go(func() {
			for d := range next {
				if _, err := s.Stat(ctx, d); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("blob %s: %w", d, err)
						cancel()
					}
					mu.Unlock()
				}
			}
		})
	}
feed:
	for _, d := range blobs {
		select {
		case next <- d:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
