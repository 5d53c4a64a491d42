package tinylm

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dagproject/dag/plugins"
)

// BenchmarkTrainTokens measures pretraining throughput of the default
// architecture and batch (docs/tinylm.md, "Benchmark"): tokens/s counts
// the input positions of each optimizer step (batch_size x max_length).
// TINYLM_BENCH_STEPS sets the timed steps (default 20), after 3 warm-up
// steps. bench/tinylm.sh runs it beside the PyTorch version.
func BenchmarkTrainTokens(b *testing.B) {
	steps := 20
	if s, err := strconv.Atoi(os.Getenv("TINYLM_BENCH_STEPS")); err == nil && s > 0 {
		steps = s
	}
	prm, err := parseParams(nil)
	if err != nil {
		b.Fatal(err)
	}
	c := newConfig(prm.DModel, prm.Layers, prm.Heads, prm.Context)
	w := initWeights(c, 1)
	prog := &stepProgram{cfg: c, kind: plugins.KindPretrain, train: w.names(), maxGradNorm: prm.MaxGradNorm}
	tr, err := newTrainer(prog, w, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.close()
	stream := corpusTokens([]byte(corpus()))
	smp := &windowSampler{stream: stream, window: min(prm.MaxLength, c.Context), batchSize: prm.BatchSize, seed: 1}
	for s := range 3 {
		if _, err := tr.step(smp.batch(s), prm.LearningRate, s+1); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		tokens := 0
		start := time.Now()
		for s := 3; s < 3+steps; s++ {
			bt := smp.batch(s)
			if _, err := tr.step(bt, prm.LearningRate, s+1); err != nil {
				b.Fatal(err)
			}
			tokens += bt.rows * bt.length
		}
		b.ReportMetric(float64(tokens)/time.Since(start).Seconds(), "tokens/s")
	}
	b.ReportMetric(float64(c.DModel), "d_model")
	b.ReportMetric(float64(c.Layers), "layers")
}
