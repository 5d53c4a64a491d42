package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dagclient "github.com/dagproject/dag/client"

	"github.com/dagproject/dag/internal/gobuild"
)

// BenchmarkServerStartToFirstNode measures, on a fresh home, the time from
// starting the embedded server (Temporal, Web UI, worker) to the first node
// of a submitted study being scheduled. Target: < 2 s.
func BenchmarkServerStartToFirstNode(b *testing.B) {
	file := writeTinyStudy(&testing.T{})
	var total time.Duration
	for i := 0; i < b.N; i++ {
		home, err := os.MkdirTemp("", "dag-bench-")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		start := time.Now()
		go func() { done <- run(ctx, []string{"server", "--home", home}, os.Stderr, os.Stderr) }()
		g := &globals{home: home, stdout: os.Stdout, stderr: os.Stderr}
		if err := g.resolve(); err != nil {
			b.Fatal(err)
		}
		if _, ok := g.waitForServer(ctx, nil, time.Minute); !ok {
			b.Fatal("server did not come up")
		}
		sess, err := g.connect(ctx)
		if err != nil {
			b.Fatal(err)
		}
		in, err := g.prepareRun(ctx, file, 4, nil)
		if err != nil {
			b.Fatal(err)
		}
		dc := dagclient.New(sess.client, g.namespace)
		r, _, err := dc.Start(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		for scheduled := false; !scheduled; {
			v, err := dc.View(ctx, r)
			if err != nil {
				b.Fatal(err)
			}
			for _, n := range v.State.Nodes {
				if n.Outcome != "pending" {
					scheduled = true
				}
			}
			if !scheduled {
				time.Sleep(20 * time.Millisecond)
			}
		}
		total += time.Since(start)
		sess.close()
		cancel()
		<-done
		os.RemoveAll(home)
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-first-node")
}

// writeWideStudy writes a study of trivial nodes: a corpus and n datasets
// (data nodes), a one-step pretrain, and n one-step SFT pipelines, all on
// the example plugin: 2n+2 nodes.
func writeWideStudy(tb testing.TB, dir string, n int) (string, int) {
	var b strings.Builder
	b.WriteString("version: 1\nname: wide\nbackends: {default: example}\nmodel:\n  pretrain: {corpus: corpus, params: {steps: 1}}\ndatasets:\n  corpus: {source: corpus.txt, adapter: text}\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  d%d: {source: d%d.jsonl, adapter: sft-jsonl}\n", i, i)
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("d%d.jsonl", i)), []byte(fmt.Sprintf(`{"prompt":"p%d","response":"r"}`+"\n", i)), 0o644)
	}
	b.WriteString("recipes:\n  sft: {kind: sft, params: {steps: 1}}\npipelines:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  p%d: {steps: [{sft: d%d}]}\n", i, i)
	}
	os.WriteFile(filepath.Join(dir, "corpus.txt"), []byte("a tiny corpus\n"), 0o644)
	file := filepath.Join(dir, "study.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return file, 2*n + 2
}

// BenchmarkNodeOverhead200 runs a study of 202 trivial nodes on the
// embedded server with parallelism 8, cold (every node executes: a data
// node uploads and prepares a one-line file, a plugin node launches the
// example plugin for one step) and then cached (every node is a lookup).
// It reports wall time per node; target: <= 50 ms per node.
func BenchmarkNodeOverhead200(b *testing.B) {
	dir := b.TempDir()
	plugin := filepath.Join(dir, "plugins", "dag-plugin-example")
	if err := gobuild.Build(context.Background(), "", plugin, "github.com/dagproject/dag/plugins/internal/exampleplugin/dag-plugin-example"); err != nil {
		b.Fatal(err)
	}
	b.Setenv("DAG_PLUGIN_PATH", filepath.Dir(plugin))
	file, nodes := writeWideStudy(b, dir, 100)
	var cold, cached time.Duration
	for i := 0; i < b.N; i++ {
		home := filepath.Join(dir, fmt.Sprintf("home-%d", i))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() { done <- run(ctx, []string{"server", "--home", home}, io.Discard, io.Discard) }()
		g := &globals{home: home}
		if err := g.resolve(); err != nil {
			b.Fatal(err)
		}
		if _, ok := g.waitForServer(ctx, nil, time.Minute); !ok {
			b.Fatal("server did not come up")
		}
		for _, d := range []*time.Duration{&cold, &cached} {
			start := time.Now()
			var out, errs bytes.Buffer
			if code := run(ctx, []string{"submit", file, "--wait", "--parallel", "8", "--home", home}, &out, &errs); code != 0 {
				b.Fatalf("submit exit %d: %s", code, errs.String())
			}
			*d += time.Since(start)
		}
		cancel()
		<-done
	}
	perNode := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N*nodes) }
	b.ReportMetric(perNode(cold), "ms/node-cold")
	b.ReportMetric(perNode(cached), "ms/node-cached")
	b.ReportMetric(perNode(cold)/50, "cold/target")
	fmt.Fprintf(os.Stderr, "%d nodes, parallelism 8: %.1f ms/node cold, %.1f ms/node cached (target <= 50)\n", nodes, perNode(cold), perNode(cached))
}
