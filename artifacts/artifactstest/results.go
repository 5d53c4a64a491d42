package artifactstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
)

// hit stores a preimage and one output folder and records a result for
// them; it returns the result and the output's manifest.
func hit(t *testing.T, s artifacts.Store, seed uint64) (artifacts.Result, artifacts.Manifest) {
	t.Helper()
	ctx := context.Background()
	key, err := artifacts.PutPreimage(ctx, s, fmt.Appendf(nil, `{"kind":"sft","seed":%d}`, seed))
	noErr(t, err)
	dir, _ := writeTree(t, seed)
	md, err := artifacts.PutDir(ctx, s, dir)
	noErr(t, err)
	m, err := artifacts.ReadManifest(ctx, s, md)
	noErr(t, err)
	r := artifacts.Result{
		Key:      key,
		Node:     "sft-orca",
		Outputs:  map[string]digest.Digest{"model": md},
		Producer: artifacts.Producer{Plugin: "gomlx", PluginDigest: digest.FromString("plugin"), Host: "h1", Run: "run-1"},
		Started:  time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Finished: time.Date(2025, 1, 2, 4, 4, 5, 6, time.UTC),
	}
	noErr(t, artifacts.PutResult(ctx, s, r))
	return r, m
}

func wantResult(t *testing.T, got, want artifacts.Result) {
	t.Helper()
	if got.Key != want.Key || got.Node != want.Node || got.Producer != want.Producer ||
		!got.Started.Equal(want.Started) || !got.Finished.Equal(want.Finished) || len(got.Outputs) != len(want.Outputs) {
		t.Fatalf("GetResult = %+v, want %+v", got, want)
	}
	for k, v := range want.Outputs {
		if got.Outputs[k] != v {
			t.Fatalf("GetResult outputs = %v, want %v", got.Outputs, want.Outputs)
		}
	}
}

func testResults(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	r, _ := hit(t, s, 700)
	got, err := artifacts.GetResult(ctx, s, r.Key)
	noErr(t, err)
	wantResult(t, got, r)

	pre, err := artifacts.GetPreimage(ctx, s, r.Key)
	noErr(t, err)
	if digest.FromBytes(pre) != r.Key {
		t.Fatalf("GetPreimage does not hash to the key")
	}

	// Replacing a result (a forced re-run) keeps the latest.
	r.Producer.Run = "run-2"
	noErr(t, artifacts.PutResult(ctx, s, r))
	got, err = artifacts.GetResult(ctx, s, r.Key)
	noErr(t, err)
	wantResult(t, got, r)

	// A result without outputs.
	key2, err := artifacts.PutPreimage(ctx, s, []byte("no outputs"))
	noErr(t, err)
	noErr(t, artifacts.PutResult(ctx, s, artifacts.Result{Key: key2}))
	got, err = artifacts.GetResult(ctx, s, key2)
	noErr(t, err)
	if got.Key != key2 || got.Outputs == nil || len(got.Outputs) != 0 {
		t.Fatalf("GetResult = %+v, want no outputs", got)
	}

	// Delete.
	noErr(t, artifacts.DeleteResult(ctx, s, r.Key))
	_, err = artifacts.GetResult(ctx, s, r.Key)
	wantErr(t, err, isNotFound, "NotFound")
	wantErr(t, artifacts.DeleteResult(ctx, s, r.Key), isNotFound, "NotFound")

	// Unknown and invalid keys.
	_, err = artifacts.GetResult(ctx, s, digest.FromString("unknown"))
	wantErr(t, err, isNotFound, "NotFound")
	_, err = artifacts.GetPreimage(ctx, s, digest.FromString("unknown"))
	wantErr(t, err, isNotFound, "NotFound")
	_, err = artifacts.GetResult(ctx, s, "sha256:nope")
	wantErr(t, err, isInvalidArgument, "InvalidArgument")
	wantErr(t, artifacts.PutResult(ctx, s, artifacts.Result{Key: "bad"}), isInvalidArgument, "InvalidArgument")
	wantErr(t, artifacts.PutResult(ctx, s, artifacts.Result{Key: key2, Outputs: map[string]digest.Digest{"m": "bad"}}),
		isInvalidArgument, "InvalidArgument")
}

func testMissingBlobOnHit(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	for i, victim := range []string{"entry", "manifest", "preimage"} {
		t.Run(victim, func(t *testing.T) {
			r, m := hit(t, s, uint64(800+10*i))
			_, err := artifacts.GetResult(ctx, s, r.Key)
			noErr(t, err)
			switch victim {
			case "entry":
				noErr(t, s.Delete(ctx, entryDigest(t, m, "data/part-0")))
			case "manifest":
				noErr(t, s.Delete(ctx, r.Outputs["model"]))
			case "preimage":
				noErr(t, s.Delete(ctx, r.Key))
			}
			_, err = artifacts.GetResult(ctx, s, r.Key)
			wantErr(t, err, isNotFound, "NotFound")
		})
	}
}

func testPutResultRefusesMissing(t *testing.T, h Harness) {
	ctx := context.Background()
	s := h.Store
	key, err := artifacts.PutPreimage(ctx, s, []byte("preimage"))
	noErr(t, err)
	dir, _ := writeTree(t, 900)
	md, err := artifacts.PutDir(ctx, s, dir)
	noErr(t, err)
	m, err := artifacts.ReadManifest(ctx, s, md)
	noErr(t, err)
	ok := artifacts.Result{Key: key, Outputs: map[string]digest.Digest{"out": md}}

	missingPreimage := ok
	missingPreimage.Key = digest.FromString("preimage never stored")
	wantErr(t, artifacts.PutResult(ctx, s, missingPreimage), isFailedPrecondition, "FailedPrecondition")
	_, err = artifacts.GetResult(ctx, s, missingPreimage.Key)
	wantErr(t, err, isNotFound, "NotFound")

	missingManifest := ok
	missingManifest.Outputs = map[string]digest.Digest{"out": md, "other": digest.FromString("no such manifest")}
	wantErr(t, artifacts.PutResult(ctx, s, missingManifest), isFailedPrecondition, "FailedPrecondition")
	_, err = artifacts.GetResult(ctx, s, key)
	wantErr(t, err, isNotFound, "NotFound")

	noErr(t, s.Delete(ctx, entryDigest(t, m, "bin/run")))
	wantErr(t, artifacts.PutResult(ctx, s, ok), isFailedPrecondition, "FailedPrecondition")
	_, err = artifacts.GetResult(ctx, s, key)
	wantErr(t, err, isNotFound, "NotFound")

	// Blobs back, result accepted.
	_, err = artifacts.PutDir(ctx, s, dir)
	noErr(t, err)
	noErr(t, artifacts.PutResult(ctx, s, ok))
	_, err = artifacts.GetResult(ctx, s, key)
	noErr(t, err)
}
