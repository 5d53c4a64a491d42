package artifacts_test

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/errdefs"
)

// resultFixture stores a preimage and an output folder and returns a result
// naming them, not yet recorded, and the store's root folder.
func resultFixture(t *testing.T) (artifacts.Store, string, artifacts.Result) {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	s, err := fs.Open(root)
	noErr(t, err)
	key, err := artifacts.PutPreimage(ctx, s, []byte(`{"v":1,"kind":"dpo"}`))
	noErr(t, err)
	if key != digest.FromString(`{"v":1,"kind":"dpo"}`) {
		t.Fatalf("PutPreimage = %s, want the preimage's sha256", key)
	}
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"w.bin": "weights", "cfg.json": "{}"})
	md, err := artifacts.PutDir(ctx, s, src)
	noErr(t, err)
	return s, root, artifacts.Result{
		Key:      key,
		Node:     "dpo-hh",
		Outputs:  map[string]digest.Digest{"adapter": md, "metrics": md},
		Producer: artifacts.Producer{Plugin: "hf", PluginDigest: digest.FromString("bin"), Host: "gpu-1", Run: "r-7"},
		Started:  time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		Finished: time.Date(2025, 6, 1, 13, 0, 0, 0, time.UTC),
	}
}

func TestResultRecord(t *testing.T) {
	ctx := context.Background()
	s, _, r := resultFixture(t)
	noErr(t, artifacts.PutResult(ctx, s, r))

	name := "results/sha256/" + r.Key.Encoded()
	b, err := s.GetRecord(ctx, name)
	noErr(t, err)
	var doc map[string]json.RawMessage
	noErr(t, json.Unmarshal(b, &doc))
	var keys []string
	for k := range doc {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"finished", "key", "node", "outputs", "producer", "started"}; !slices.Equal(keys, want) {
		t.Fatalf("result fields %q, want %q", keys, want)
	}
	var prod map[string]string
	noErr(t, json.Unmarshal(doc["producer"], &prod))
	if prod["plugin_digest"] != r.Producer.PluginDigest.String() || prod["host"] != "gpu-1" {
		t.Fatalf("producer = %v", prod)
	}
	var names []string
	noErr(t, s.WalkRecords(ctx, "results/", func(n string) error { names = append(names, n); return nil }))
	if !slices.Equal(names, []string{name}) {
		t.Fatalf("result records %q, want %q", names, name)
	}

	// Nil outputs are stored as an empty object.
	r2 := r
	r2.Outputs = nil
	noErr(t, artifacts.PutResult(ctx, s, r2))
	b, err = s.GetRecord(ctx, name)
	noErr(t, err)
	noErr(t, json.Unmarshal(b, &doc))
	if string(doc["outputs"]) != "{}" {
		t.Fatalf("nil outputs stored as %s", doc["outputs"])
	}
}

func TestResultDamagedRecord(t *testing.T) {
	ctx := context.Background()
	s, _, r := resultFixture(t)
	name := "results/sha256/" + r.Key.Encoded()
	for what, doc := range map[string]string{
		"not json":      "garbage",
		"other key":     `{"key":"` + digest.FromString("x").String() + `","outputs":{}}`,
		"bad output":    `{"key":"` + r.Key.String() + `","outputs":{"o":"nope"}}`,
		"truncated doc": `{"key":"` + r.Key.String(),
	} {
		noErr(t, s.PutRecord(ctx, name, []byte(doc)))
		_, err := artifacts.GetResult(ctx, s, r.Key)
		if !errdefs.IsDataLoss(err) {
			t.Errorf("%s: GetResult = %v, want DataLoss", what, err)
		}
	}
}

// A corrupt output manifest is reported, not hidden as a miss: re-running
// the node could not replace a blob that is present.
func TestResultCorruptManifest(t *testing.T) {
	ctx := context.Background()
	s, root, r := resultFixture(t)
	noErr(t, artifacts.PutResult(ctx, s, r))
	p := filepath.Join(root, "blobs", "sha256", r.Outputs["adapter"].Encoded())
	noErr(t, os.Chmod(p, 0o644))
	noErr(t, os.WriteFile(p, []byte("rot"), 0o644))
	_, err := artifacts.GetResult(ctx, s, r.Key)
	wantErr(t, err, errdefs.IsDataLoss, "DataLoss")
}

func TestPutResultRefuses(t *testing.T) {
	ctx := context.Background()
	s, _, r := resultFixture(t)
	notManifest, err := artifacts.PutBytes(ctx, s, []byte("just bytes"))
	noErr(t, err)
	cases := map[string]func(r *artifacts.Result){
		"empty output name":   func(r *artifacts.Result) { r.Outputs[""] = r.Outputs["adapter"] },
		"bad plugin digest":   func(r *artifacts.Result) { r.Producer.PluginDigest = "sha256:zz" },
		"output not manifest": func(r *artifacts.Result) { r.Outputs["x"] = notManifest },
		"empty key":           func(r *artifacts.Result) { r.Key = "" },
	}
	for name, mutate := range cases {
		bad := r
		bad.Outputs = maps.Clone(r.Outputs)
		mutate(&bad)
		if err := artifacts.PutResult(ctx, s, bad); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: PutResult = %v, want InvalidArgument", name, err)
		}
	}
	_, err = artifacts.GetResult(ctx, s, r.Key)
	wantErr(t, err, errdefs.IsNotFound, "NotFound")
}

func TestPreimageLimits(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	big, err := artifacts.PutBytes(ctx, s, make([]byte, 16<<20+1))
	noErr(t, err)
	_, err = artifacts.GetPreimage(ctx, s, big)
	wantErr(t, err, errdefs.IsFailedPrecondition, "FailedPrecondition")
	_, err = artifacts.GetPreimage(ctx, s, "bad")
	wantErr(t, err, errdefs.IsInvalidArgument, "InvalidArgument")
}
