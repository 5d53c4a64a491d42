package planner_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/datasets"
	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/study"
)

const spec = `version: 1
name: p
model:
  pretrain: {corpus: corpus}
datasets:
  corpus: {source: corpus.txt}
  a: {source: a.jsonl}
  b: {source: b.jsonl}
  remote: {source: "https://example.invalid/x.jsonl"}
recipes:
  sft: {kind: sft, params: {learning_rate: 0.001, log_every: 5}}
pipelines:
  base: {steps: []}
  sft-a: {steps: [{sft: a}]}
  sft-b: {steps: [{sft: b}]}
  sft-remote: {steps: [{sft: remote}]}
`

// A fixed plugin list: real plugin discovery is tested in plugins/host;
// here only what planning does with its answers matters.
var tinylm = host.Info{
	Description: plugins.Description{
		Name: "tinylm", ProtocolVersion: 1, Kinds: plugins.Kinds, Ready: true,
		Params: []plugins.Param{{Path: "log_every", Type: plugins.TypeInt, ExecutionOnly: true}},
	},
	Digest: digest.FromString("tinylm binary"),
}

type fixture struct {
	t     *testing.T
	dir   string
	store artifacts.Store
	opts  planner.Options
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "study.yaml"), spec)
	write(t, filepath.Join(dir, "corpus.txt"), "some text\n")
	write(t, filepath.Join(dir, "a.jsonl"), `{"prompt":"1","response":"one"}`+"\n")
	write(t, filepath.Join(dir, "b.jsonl"), `{"prompt":"2","response":"two"}`+"\n")
	s, err := fsstore.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: dir, store: s, opts: planner.Options{Store: s, Plugins: planner.InstalledPlugins{tinylm}}}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) plan() (*study.Plan, map[string]planner.Node) {
	f.t.Helper()
	s, err := study.Load(filepath.Join(f.dir, "study.yaml"))
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := study.Compile(s)
	if err != nil {
		f.t.Fatal(err)
	}
	res, err := planner.Plan(context.Background(), p, f.opts)
	if err != nil {
		f.t.Fatal(err)
	}
	byID := map[string]planner.Node{}
	for _, n := range res.Nodes {
		byID[n.ID] = n
	}
	return p, byID
}

// runData executes and publishes every data node that missed.
func (f *fixture) runData(p *study.Plan, nodes map[string]planner.Node) {
	f.t.Helper()
	ctx := context.Background()
	for _, n := range p.Nodes {
		if n.Kind != study.KindData || nodes[n.ID].Status != planner.Miss {
			continue
		}
		src, err := datasets.Upload(ctx, f.store, n.Source)
		if err != nil {
			f.t.Fatal(err)
		}
		out, err := datasets.Prepare(ctx, f.store, &n, src)
		if err != nil {
			f.t.Fatal(err)
		}
		now := time.Now()
		if _, err := artifacts.Publish(ctx, f.store, artifacts.Publication{Preimage: nodes[n.ID].Preimage, Node: n.ID, Outputs: out, Producer: artifacts.Producer{Plugin: "dag.data"}, Started: now, Finished: now, Ref: planner.RefName("default", p.Study, n.ID)}); err != nil {
			f.t.Fatal(err)
		}
	}
}

func expect(t *testing.T, nodes map[string]planner.Node, id string, status planner.Status, reason string) planner.Node {
	t.Helper()
	n, ok := nodes[id]
	if !ok {
		t.Fatalf("no node %s", id)
	}
	if n.Status != status || !strings.Contains(n.Reason, reason) {
		t.Fatalf("%s: got %s (%s), want %s (%s)", id, n.Status, n.Reason, status, reason)
	}
	if (n.Key == nil) != (status == planner.Blocked) {
		t.Fatalf("%s: key %v with status %s", id, n.Key, status)
	}
	return n
}

func TestEmptyStore(t *testing.T) {
	f := newFixture(t)
	_, nodes := f.plan()
	expect(t, nodes, "data/a", planner.Miss, "not in cache")
	expect(t, nodes, "data/corpus", planner.Miss, "not in cache")
	expect(t, nodes, "data/remote", planner.Blocked, "remote source https://example.invalid/x.jsonl")
	expect(t, nodes, "pretrain/base", planner.Blocked, "waiting on data/corpus")
	expect(t, nodes, "sft/a", planner.Blocked, "waiting on data/a, pretrain/base")
}

func TestEditOneDatasetChangesOnlyItsKey(t *testing.T) {
	f := newFixture(t)
	p, before := f.plan()
	f.runData(p, before)

	_, cached := f.plan()
	for _, id := range []string{"data/a", "data/b", "data/corpus"} {
		n := expect(t, cached, id, planner.Hit, "cached")
		if *n.Key != *before[id].Key {
			t.Fatalf("%s: key changed by running it", id)
		}
	}
	expect(t, cached, "pretrain/base", planner.Miss, "not in cache")

	write(t, filepath.Join(f.dir, "a.jsonl"), `{"prompt":"1","response":"uno"}`+"\n")
	_, after := f.plan()
	for id, n := range after {
		changed := n.Key != nil && before[id].Key != nil && *n.Key != *before[id].Key
		if changed != (id == "data/a") {
			t.Errorf("%s: key changed=%v", id, changed)
		}
	}
	n := expect(t, after, "data/a", planner.Miss, "source a.jsonl changed")
	if len(n.Changes) != 1 || n.Changes[0].Path != "inputs.source" {
		t.Fatalf("changes: %+v", n.Changes)
	}
	expect(t, after, "data/b", planner.Hit, "cached")
	expect(t, after, "sft/a", planner.Blocked, "waiting on data/a")
}

func TestParamChangeIsExplainedAndExecutionOnlyIsIgnored(t *testing.T) {
	f := newFixture(t)
	p, nodes := f.plan()
	f.runData(p, nodes)
	p, nodes = f.plan()
	pre := expect(t, nodes, "pretrain/base", planner.Miss, "not in cache")
	// Pretend the base model was trained: publish an output for it.
	model := filepath.Join(f.dir, "model")
	os.MkdirAll(model, 0o755)
	write(t, filepath.Join(model, "weights.bin"), "w")
	ctx := context.Background()
	d, err := artifacts.PutDir(ctx, f.store, model)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := artifacts.Publish(ctx, f.store, artifacts.Publication{Preimage: pre.Preimage, Node: "pretrain/base", Outputs: map[string]digest.Digest{study.OutModel: d}, Producer: artifacts.Producer{}, Started: time.Now(), Finished: time.Now(), Ref: planner.RefName("default", p.Study, "pretrain/base")}); err != nil {
		t.Fatal(err)
	}
	_, nodes = f.plan()
	sft := expect(t, nodes, "sft/a", planner.Miss, "not in cache")
	if _, err := artifacts.Publish(ctx, f.store, artifacts.Publication{Preimage: sft.Preimage, Node: "sft/a", Outputs: map[string]digest.Digest{study.OutModel: d}, Producer: artifacts.Producer{}, Started: time.Now(), Finished: time.Now(), Ref: planner.RefName("default", p.Study, "sft/a")}); err != nil {
		t.Fatal(err)
	}
	expect(t, mustPlan(f), "sft/a", planner.Hit, "cached")

	specPath := filepath.Join(f.dir, "study.yaml")
	write(t, specPath, strings.Replace(spec, "log_every: 5", "log_every: 50", 1))
	expect(t, mustPlan(f), "sft/a", planner.Hit, "cached")

	write(t, specPath, strings.Replace(spec, "learning_rate: 0.001", "learning_rate: 0.002", 1))
	n := expect(t, mustPlan(f), "sft/a", planner.Miss, "params.learning_rate 0.001 -> 0.002")
	if len(n.Changes) != 1 {
		t.Fatalf("changes: %+v", n.Changes)
	}
}

func TestLostBlobIsAMiss(t *testing.T) {
	f := newFixture(t)
	p, nodes := f.plan()
	f.runData(p, nodes)
	_, nodes = f.plan()
	hit := expect(t, nodes, "data/b", planner.Hit, "cached")
	m, err := artifacts.ReadManifest(context.Background(), f.store, hit.Outputs[study.OutData])
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Delete(context.Background(), m.Entries[0].Digest); err != nil {
		t.Fatal(err)
	}
	_, nodes = f.plan()
	expect(t, nodes, "data/b", planner.Miss, "blobs were deleted")
	expect(t, nodes, "data/a", planner.Hit, "cached")
}

func TestPluginProblemsBlock(t *testing.T) {
	f := newFixture(t)
	p, nodes := f.plan()
	f.runData(p, nodes)

	f.opts.Plugins = nil
	expect(t, mustPlan(f), "pretrain/base", planner.Blocked, "plugin tinylm is not installed (see dag plugins)")

	sick := tinylm
	sick.Ready, sick.Problem = false, "python package torch is missing"
	f.opts.Plugins = planner.InstalledPlugins{sick}
	expect(t, mustPlan(f), "pretrain/base", planner.Blocked, "not ready: python package torch is missing")

	evalOnly := tinylm
	evalOnly.Kinds = []plugins.Kind{plugins.KindEval}
	f.opts.Plugins = planner.InstalledPlugins{evalOnly}
	expect(t, mustPlan(f), "pretrain/base", planner.Blocked, "does not run pretrain stages")
}

func mustPlan(f *fixture) map[string]planner.Node {
	f.t.Helper()
	_, nodes := f.plan()
	return nodes
}
