package host_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/exampleplugin"
)

// tinyRequests returns n multiple-choice style requests: n/4 short
// contexts with 4 one-word continuations each (seeded).
func tinyRequests(n int) []plugins.LoglikelihoodRequest {
	rng := rand.New(rand.NewPCG(7, 11))
	word := func() string {
		b := make([]byte, 3+rng.IntN(6))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		return string(b)
	}
	reqs := make([]plugins.LoglikelihoodRequest, 0, n)
	for len(reqs) < n {
		ws := make([]string, 4+rng.IntN(4))
		for i := range ws {
			ws[i] = word()
		}
		ctx := "Q: " + strings.Join(ws, " ") + "?\nA:"
		for j := 0; j < 4 && len(reqs) < n; j++ {
			reqs = append(reqs, plugins.LoglikelihoodRequest{Context: ctx, Continuation: " " + word()})
		}
	}
	return reqs
}

// BenchmarkScore10k scores 10,000 tiny requests with the example plugin,
// in-process and through the RPC path (a launched plugin process, gRPC
// over AutoMTLS, batched), alternating the two each iteration. Metrics:
// ns per request of each, their ratio, and the RPC overhead per request.
// "toylm" scores with the toy's per-token softmax over 256 logits;
// "trivial" with a closed form, so its ratio is almost pure protocol
// overhead; "file" passes only paths (requests and results files).
func BenchmarkScore10k(b *testing.B) {
	const n = 10000
	reqs := tinyRequests(n)
	dir := b.TempDir()
	ckpt := filepath.Join(dir, "ckpt")
	os.Mkdir(ckpt, 0o755)
	os.WriteFile(filepath.Join(ckpt, "counter.txt"), []byte("3\n"), 0o644)
	in := filepath.Join(dir, "requests.jsonl")
	f, _ := os.Create(in)
	if err := plugins.WriteRequests(f, reqs); err != nil {
		b.Fatal(err)
	}
	f.Close()

	remote, _ := launch(b, "example")
	local := exampleplugin.New(exampleplugin.Config{})
	ctx := context.Background()

	for _, mode := range []struct {
		name string
		req  plugins.ScoreRequest
	}{
		{"toylm", plugins.ScoreRequest{Checkpoint: ckpt, Requests: reqs}},
		{"trivial", plugins.ScoreRequest{Checkpoint: ckpt, Params: json.RawMessage(`{"softmax": false}`), Requests: reqs}},
		{"file", plugins.ScoreRequest{Checkpoint: ckpt, RequestsPath: in, OutputPath: filepath.Join(dir, "out.jsonl")}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			var tLocal, tRemote time.Duration
			iters := 0
			for b.Loop() {
				t0 := time.Now()
				lres, err := local.Score(ctx, mode.req)
				t1 := time.Now()
				rres, rerr := remote.Score(ctx, mode.req)
				t2 := time.Now()
				if err != nil || rerr != nil || lres.Count != n || rres.Count != n {
					b.Fatalf("score: %v, %v (counts %d, %d)", err, rerr, lres.Count, rres.Count)
				}
				tLocal += t1.Sub(t0)
				tRemote += t2.Sub(t1)
				iters++
			}
			perLocal := float64(tLocal.Nanoseconds()) / float64(iters*n)
			perRemote := float64(tRemote.Nanoseconds()) / float64(iters*n)
			b.ReportMetric(perLocal, "inproc-ns/req")
			b.ReportMetric(perRemote, "rpc-ns/req")
			b.ReportMetric(perRemote/perLocal, "ratio")
			b.ReportMetric(perRemote-perLocal, "overhead-ns/req")
		})
	}
}
