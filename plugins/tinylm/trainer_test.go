package tinylm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"

	"github.com/dagproject/dag/plugins"
)

func TestShardsSplitRowsAndKeepPairsTogether(t *testing.T) {
	// Row r holds tokens r*10 .. r*10+2.
	filled := func(rows int) *batch {
		b := newBatch(rows, 3)
		for i := range b.tokens {
			b.tokens[i] = int32(i/3*10 + i%3)
			b.targets[i] = b.tokens[i] + 1
			b.mask[i] = float32(i % 2)
		}
		return b
	}
	rowsOf := func(b *batch) []int32 {
		var out []int32
		for r := range b.rows {
			out = append(out, b.tokens[r*3]/10)
		}
		return out
	}

	plain := filled(5).shards()
	if len(plain) != 2 || !slices.Equal(rowsOf(plain[0]), []int32{0, 1}) || !slices.Equal(rowsOf(plain[1]), []int32{2, 3, 4}) {
		t.Fatalf("5 rows split into %d shards", len(plain))
	}
	if !slices.Equal(plain[1].targets[:3], []int32{21, 22, 23}) || !slices.Equal(plain[1].mask[:3], []float32{0, 1, 0}) {
		t.Errorf("shard 1 targets %v mask %v: not row 2's", plain[1].targets[:3], plain[1].mask[:3])
	}

	// DPO: 3 pairs, chosen in rows 0-2 and rejected in rows 3-5.
	pairs := filled(6)
	pairs.pairW = []float32{1, 1, 0}
	sh := pairs.shards()
	if len(sh) != 2 {
		t.Fatalf("3 pairs split into %d shards", len(sh))
	}
	if got := rowsOf(sh[0]); !slices.Equal(got, []int32{0, 3}) {
		t.Errorf("shard 0 rows %v, want chosen 0 then its rejected 3", got)
	}
	if got := rowsOf(sh[1]); !slices.Equal(got, []int32{1, 2, 4, 5}) {
		t.Errorf("shard 1 rows %v, want chosen 1, 2 then rejected 4, 5", got)
	}
	if !slices.Equal(sh[0].pairW, []float32{1}) || !slices.Equal(sh[1].pairW, []float32{1, 0}) {
		t.Errorf("pair weights %v and %v", sh[0].pairW, sh[1].pairW)
	}

	if one := filled(1).shards(); len(one) != 1 || one[0].rows != 1 {
		t.Errorf("a 1-row batch split into %d shards", len(one))
	}
	if pairs.denominator() != 2 || filled(5).denominator() != 7 {
		t.Errorf("denominators %v and %v, want 2 pair weights and 7 loss tokens", pairs.denominator(), filled(5).denominator())
	}
}

// TestShardedGradientEqualsWholeBatch checks that splitting a batch
// changes only the order of float sums: the shards' gradients and metrics
// add up to those of the whole batch computed in one piece.
func TestShardedGradientEqualsWholeBatch(t *testing.T) {
	c := newConfig(32, 2, 2, 64)
	base := initWeights(c, 1)
	stream := corpusTokens([]byte(corpus()))

	t.Run("pretrain", func(t *testing.T) {
		prog := &stepProgram{cfg: c, kind: plugins.KindPretrain, train: base.names()}
		b := (&windowSampler{stream: stream, window: 48, batchSize: 5, seed: 3}).batch(0)
		compareShards(t, prog, base, b)
	})

	t.Run("dpo", func(t *testing.T) {
		lora := &loraSpec{Rank: 2, Alpha: 4, Modules: []string{"q", "v", "up"}}
		adapters := initLoRA(c, *lora, 1)
		rng := rand.New(rand.NewPCG(2, 2))
		for _, n := range adapters.names() { // a trained-looking adapter, so policy and reference differ
			for i := range adapters[n].Data {
				adapters[n].Data[i] += float32(rng.NormFloat64() * 0.05)
			}
		}
		all := Weights{}
		for n, w := range base {
			all[n] = w
		}
		for n, w := range adapters {
			all[n] = w
		}
		prog := &stepProgram{cfg: c, kind: plugins.KindDPO, lora: lora, train: adapters.names(), frozen: base.names(), beta: 0.1, smooth: 0.1}
		b := newBatch(6, 40)
		for r := range 6 {
			seq := stream[r*37 : r*37+40]
			b.setRow(r, seq, 10+r)
		}
		b.pairW = []float32{1, 0.5, 1}
		compareShards(t, prog, all, b)
	})
}

func compareShards(t *testing.T, prog *stepProgram, w Weights, b *batch) {
	t.Helper()
	tr, err := newTrainer(prog, w, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	grad := func(sb *batch, denom float32) ([]float32, []float64) {
		out, err := tr.grads[0].Exec(tr.gradArgs(sb, denom)...)
		if err != nil {
			t.Fatal(err)
		}
		defer release(out)
		var metrics []float64
		for _, x := range out[1:] {
			metrics = append(metrics, scalarOf(x))
		}
		return tensors.MustCopyFlatData[float32](out[0]), metrics
	}

	denom := b.denominator()
	whole, wholeMetrics := grad(b, denom)
	shards := b.shards()
	if len(shards) != trainShards {
		t.Fatalf("%d shards, want %d", len(shards), trainShards)
	}
	sum := make([]float32, len(whole))
	sumMetrics := make([]float64, len(wholeMetrics))
	for _, sb := range shards {
		g, m := grad(sb, denom)
		for i := range g {
			sum[i] += g[i]
		}
		for i := range m {
			sumMetrics[i] += m[i]
		}
	}

	var norm, diff float64
	for i := range whole {
		norm = max(norm, math.Abs(float64(whole[i])))
		diff = max(diff, math.Abs(float64(whole[i]-sum[i])))
	}
	if norm == 0 {
		t.Fatal("the whole batch's gradient is zero: the test proves nothing")
	}
	if diff > 1e-4*norm {
		t.Errorf("shard gradients differ from the whole batch's by %.3g (largest component %.3g)", diff, norm)
	}
	for i := range wholeMetrics {
		if math.Abs(wholeMetrics[i]-sumMetrics[i]) > 1e-5*(1+math.Abs(wholeMetrics[i])) {
			t.Errorf("metric %s: shards add up to %.6f, whole batch %.6f", stepMetrics[prog.kind][i], sumMetrics[i], wholeMetrics[i])
		}
	}
	t.Logf("%d parameters, largest gradient component %.3g, largest difference %.3g; metrics %v", len(whole), norm, diff, wholeMetrics)
}
