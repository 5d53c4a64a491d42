package planner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/filehash"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/study"
)

// writeLargeStudy generates a study of about 1,000 nodes: 40 SFT datasets,
// each also followed by DPO on two preference sets (121 models), six
// benchmarks and the safety score on every model.
func writeLargeStudy(tb testing.TB, dir string) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nname: large\nmodel:\n  pretrain: {corpus: corpus}\ndatasets:\n  corpus: {source: corpus.txt}\n")
	files := map[string]string{"corpus.txt": "text\n"}
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "  s%02d: {source: s%02d.jsonl}\n", i, i)
		files[fmt.Sprintf("s%02d.jsonl", i)] = fmt.Sprintf("{\"i\":%d}\n", i)
	}
	for _, d := range []string{"p0", "p1", "arc", "piqa", "hs", "mmlu", "tox", "tqa"} {
		fmt.Fprintf(&b, "  %s: {source: %s.jsonl}\n", d, d)
		files[d+".jsonl"] = fmt.Sprintf("{\"d\":%q}\n", d)
	}
	b.WriteString("  safe: {source: safe.json}\n")
	files["safe.json"] = "[]\n"
	b.WriteString("recipes:\n  sft: {kind: sft, params: {learning_rate: 0.001}}\n  dpo: {kind: dpo, params: {beta: 0.1}}\npipelines:\n  base: {steps: []}\n")
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&b, "  sft-%02d: {steps: [{sft: s%02d}]}\n", i, i)
		for _, p := range []string{"p0", "p1"} {
			fmt.Fprintf(&b, "  sft-%02d-%s: {from: sft-%02d, steps: [{dpo: %s}]}\n", i, p, i, p)
		}
	}
	b.WriteString("evaluations:\n  tasks:\n    arc_challenge: {data: arc}\n    piqa: {data: piqa}\n    hellaswag: {data: hs}\n    mmlu: {data: mmlu}\n    toxigen: {data: tox}\n    truthfulqa_mc2: {data: tqa}\n  safety: {data: safe}\n")
	files["study.yaml"] = b.String()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return filepath.Join(dir, "study.yaml")
}

func loadPlan(tb testing.TB, file string) *study.Plan {
	s, err := study.Load(file)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := study.Compile(s)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// fillStore publishes a small result for every node, wave by wave, until
// the whole plan hits.
func fillStore(tb testing.TB, p *study.Plan, opts planner.Options, scratch string) {
	ctx := context.Background()
	out := filepath.Join(scratch, "out")
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, "result.json"), []byte("{}"), 0o644)
	d, err := artifacts.PutDir(ctx, opts.Store, out)
	if err != nil {
		tb.Fatal(err)
	}
	for wave := 0; ; wave++ {
		res, err := planner.Plan(ctx, p, opts)
		if err != nil {
			tb.Fatal(err)
		}
		if res.Count(planner.Hit) == len(res.Nodes) {
			return
		}
		if wave > 10 {
			tb.Fatalf("store not filled after %d waves", wave)
		}
		for _, n := range res.Nodes {
			if n.Status != planner.Miss {
				continue
			}
			outputs := map[string]digest.Digest{study.OutData: d, study.OutModel: d, study.OutResult: d}
			if _, err := artifacts.Publish(ctx, opts.Store, artifacts.Publication{Preimage: n.Preimage, Node: n.ID, Outputs: outputs, Producer: artifacts.Producer{}, Started: time.Now(), Finished: time.Now(), Ref: planner.RefName("default", p.Study, n.ID)}); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPlan1000Cached measures what `dag plan` does on a ~1,000-node
// study whose every node is cached: load, compile, hash sources (memo
// warm), predict keys and verify each hit's blobs exist. Target: < 1 s CPU.
func BenchmarkPlan1000Cached(b *testing.B) {
	dir := b.TempDir()
	file := writeLargeStudy(b, dir)
	store, err := fsstore.Open(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	memo, err := filehash.OpenMemo(filepath.Join(dir, "memo.json"))
	if err != nil {
		b.Fatal(err)
	}
	opts := planner.Options{Store: store, Plugins: planner.InstalledPlugins{tinylm}, Hash: memo.HashFunc()}
	p := loadPlan(b, file)
	fillStore(b, p, opts, dir)
	b.ResetTimer()
	start := cpuTime()
	for i := 0; i < b.N; i++ {
		p := loadPlan(b, file)
		res, err := planner.Plan(context.Background(), p, opts)
		if err != nil {
			b.Fatal(err)
		}
		if hits := res.Count(planner.Hit); hits != len(res.Nodes) || len(res.Nodes) < 1000 {
			b.Fatalf("%d of %d nodes hit", hits, len(res.Nodes))
		}
	}
	b.ReportMetric(float64(len(p.Nodes)), "nodes")
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
}

// TestLargeStudy keeps the benchmark's study honest in the normal suite:
// it compiles to more than 1,000 nodes and a cold plan blocks all but the
// data nodes.
func TestLargeStudy(t *testing.T) {
	dir := t.TempDir()
	p := loadPlan(t, writeLargeStudy(t, dir))
	store, err := fsstore.Open(filepath.Join(dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := planner.Plan(context.Background(), p, planner.Options{Store: store, Plugins: planner.InstalledPlugins{tinylm}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Nodes) < 1000 || res.Count(planner.Miss) != 50 || res.Count(planner.Blocked) != len(res.Nodes)-50 {
		t.Fatalf("%d nodes, %d miss, %d blocked", len(res.Nodes), res.Count(planner.Miss), res.Count(planner.Blocked))
	}
}
