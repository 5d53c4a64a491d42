package planner

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// Publish records a node's successful execution: the preimage blob, then
// the result (which checks every output blob is present), then the node's
// ref. Output blobs must already be stored; a failed or cancelled attempt
// must never call Publish.
func Publish(ctx context.Context, s artifacts.Store, namespace, studyName, nodeID string, preimage []byte, outputs map[string]digest.Digest, producer artifacts.Producer, started, finished time.Time) (digest.Digest, error) {
	key, err := artifacts.PutPreimage(ctx, s, preimage)
	if err != nil {
		return "", fmt.Errorf("publish %s: %w", nodeID, err)
	}
	r := artifacts.Result{
		Key: key, Node: nodeID, Outputs: outputs, Producer: producer,
		Started: started.UTC(), Finished: finished.UTC(),
	}
	if err := artifacts.PutResult(ctx, s, r); err != nil {
		return "", fmt.Errorf("publish %s: %w", nodeID, err)
	}
	if err := artifacts.SetRef(ctx, s, RefName(namespace, studyName, nodeID), key); err != nil {
		return "", fmt.Errorf("publish %s: %w", nodeID, err)
	}
	return key, nil
}

func hashFile(path string) (digest.Digest, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return "", 0, fmt.Errorf("%s: %w", path, errdefs.ErrNotFound)
		}
		return "", 0, err
	}
	defer f.Close()
	dg := digest.SHA256.Digester()
	n, err := io.Copy(dg.Hash(), f)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return dg.Digest(), n, nil
}

func isNotExist(err error) bool { return err != nil && os.IsNotExist(err) }
