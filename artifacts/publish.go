package artifacts

import (
	"context"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
)

// Publication is a node's successful execution, as the cache records it.
type Publication struct {
	// Preimage is the node's canonical description; the key is its
	// digest.
	Preimage []byte
	// Node is the node's ID, for humans.
	Node     string
	Outputs  map[string]digest.Digest
	Producer Producer
	Started  time.Time
	Finished time.Time
	// Ref, when set, is pointed at the key: the ref recording the last key
	// a study's node was stored under, which explains the next miss.
	Ref string
}

// Publish records a publication in the cache's order: the preimage blob,
// then the result (which checks that every output blob is present), then
// the ref. Output blobs must be stored already, so a result never names a
// missing blob; a failed or cancelled attempt must never publish. It
// returns the key.
func Publish(ctx context.Context, s Store, p Publication) (digest.Digest, error) {
	key, err := PutPreimage(ctx, s, p.Preimage)
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", p.Node, err)
	}
	r := Result{
		Key: key, Node: p.Node, Outputs: p.Outputs, Producer: p.Producer,
		Started: p.Started.UTC(), Finished: p.Finished.UTC(),
	}
	if err := PutResult(ctx, s, r); err != nil {
		return "", fmt.Errorf("publish %s: %w", p.Node, err)
	}
	if p.Ref != "" {
		if err := SetRef(ctx, s, p.Ref, key); err != nil {
			return "", fmt.Errorf("publish %s: %w", p.Node, err)
		}
	}
	return key, nil
}
