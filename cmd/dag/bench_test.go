package main

import (
	"context"
	"os"
	"testing"
	"time"
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
		r, _, err := startStudy(ctx, sess.client, in)
		if err != nil {
			b.Fatal(err)
		}
		for scheduled := false; !scheduled; {
			v, err := view(ctx, sess.client, r)
			if err != nil {
				b.Fatal(err)
			}
			for _, n := range v.state.Nodes {
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
