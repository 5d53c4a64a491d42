package tinylm

import (
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive

	"github.com/dagproject/dag/plugins"
)

// The metrics a training step returns after the loss, by kind.
var stepMetrics = map[plugins.Kind][]string{
	plugins.KindPretrain: {plugins.MetricLoss},
	plugins.KindSFT:      {plugins.MetricLoss},
	plugins.KindDPO: {plugins.MetricLoss, plugins.MetricRewardMargin, plugins.MetricRewardAccuracy,
		plugins.MetricRewardChosen, plugins.MetricRewardRejected},
}

// Adam's constants.
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-8
)

// stepProgram describes one AdamW training step as two graphs: grad, run
// on each shard of the batch at once, and update, which sums the shards'
// gradients and applies the optimizer. The trainable weights travel as
// one flat float32 vector (the tensors of train, in order, each flattened
// row-major), and so do their gradients and Adam moments: the optimizer
// is then a dozen ops instead of a dozen per tensor.
//
// grad's inputs are, in order: the flat trainable weights, the frozen
// weights (frozen, sorted), then tokens [B, T] int32, targets [B, T]
// int32, loss mask [B, T] float32, for DPO a pair weight [B/2] float32,
// and the scalar denominator of the whole batch's mean (its loss tokens,
// or for DPO its pair weight, at least 1). Its outputs are the flat
// gradient of the shard's share of the loss, then the shard's shares of
// stepMetrics: the shares of all shards add up to the batch's values.
//
// For DPO the first B/2 rows are the chosen sequences and the last B/2 the
// rejected ones, pair i in rows i and B/2+i; a pair of weight 0 is
// padding.
//
// update's inputs are the flat weights, their flat Adam first and second
// moments, one gradient per shard, and the scalars lr, 1-beta1^t,
// 1-beta2^t; its outputs the new flat weights and moments.
type stepProgram struct {
	cfg          Config
	kind         plugins.Kind
	lora         *loraSpec // nil: every weight trains (pretrain)
	train        []string
	shapes       [][]int // of train
	frozen       []string
	beta, smooth float64
	maxGradNorm  float64
	weightDecay  float64
}

// size is the length of the flat trainable vector.
func (s *stepProgram) size() int {
	n := 0
	for _, sh := range s.shapes {
		n += numel(sh)
	}
	return n
}

func (s *stepProgram) grad(g *Graph, in []*Node) []*Node {
	flat := in[0]
	p := netParams{}
	ws := make([]*Node, len(s.train))
	off := 0
	for i, n := range s.train {
		size := numel(s.shapes[i])
		ws[i] = Reshape(Slice(flat, AxisRange(off, off+size)), s.shapes[i]...)
		p[n] = ws[i]
		off += size
	}
	for i, n := range s.frozen {
		p[n] = in[1+i]
	}
	rest := in[1+len(s.frozen):]
	tokens, targets, mask := rest[0], rest[1], rest[2]
	rest = rest[3:]
	var pairW *Node
	if s.kind == plugins.KindDPO {
		pairW, rest = rest[0], rest[1:]
	}
	denom := rest[0]

	var metrics []*Node
	if s.kind == plugins.KindDPO {
		metrics = s.dpoLoss(p, tokens, targets, mask, pairW, denom)
	} else {
		logp, _ := tokenLogprobs(forward(s.cfg, p, tokens, s.lora), targets, s.cfg.VocabSize)
		metrics = []*Node{Neg(Div(ReduceAllSum(Mul(logp, mask)), denom))}
	}
	grads := Gradient(metrics[0], ws...)
	for i := range grads {
		grads[i] = Reshape(grads[i], numel(s.shapes[i]))
	}
	return append([]*Node{Concatenate(grads, 0)}, metrics...)
}

func (s *stepProgram) update(g *Graph, in []*Node) []*Node {
	flat, m, v := in[0], in[1], in[2]
	shards := in[3 : len(in)-3]
	lr, bc1, bc2 := in[len(in)-3], in[len(in)-2], in[len(in)-1]
	grad := shards[0]
	for _, x := range shards[1:] {
		grad = Add(grad, x)
	}
	if s.maxGradNorm > 0 {
		norm := Sqrt(ReduceAllSum(Square(grad)))
		factor := Min(Scalar(g, dtypes.Float32, 1), Div(Scalar(g, dtypes.Float32, s.maxGradNorm), AddScalar(norm, 1e-6)))
		grad = Mul(grad, factor)
	}
	newM := Add(MulScalar(m, adamBeta1), MulScalar(grad, 1-adamBeta1))
	newV := Add(MulScalar(v, adamBeta2), MulScalar(Square(grad), 1-adamBeta2))
	upd := Div(Div(newM, bc1), AddScalar(Sqrt(Div(newV, bc2)), adamEps))
	if s.weightDecay > 0 {
		upd = Add(upd, MulScalar(flat, s.weightDecay))
	}
	return []*Node{Sub(flat, Mul(upd, lr)), newM, newV}
}

// dpoLoss returns the sigmoid DPO loss (docs/metrics.md, "DPO") and the reward
// metrics, each the shard's share of a weighted mean over the pairs of the
// whole batch (denom: their total weight, at least 1).
func (s *stepProgram) dpoLoss(p netParams, tokens, targets, mask, pairW, denom *Node) []*Node {
	B := tokens.Shape().Dimensions[0]
	P := B / 2
	seqLogp := func(lora *loraSpec) *Node {
		logp, _ := tokenLogprobs(forward(s.cfg, p, tokens, lora), targets, s.cfg.VocabSize)
		return ReduceSum(Mul(logp, mask), -1) // [B]
	}
	pol := seqLogp(s.lora)
	ref := StopGradient(seqLogp(nil)) // the frozen base: the same weights without the adapter
	half := func(x *Node, i int) *Node { return Slice(x, AxisRange(i*P, (i+1)*P)) }
	pc, pr, rc, rr := half(pol, 0), half(pol, 1), half(ref, 0), half(ref, 1)
	h := Sub(Sub(pc, pr), Sub(rc, rr))
	bh := MulScalar(h, s.beta)
	logSig := func(x *Node) *Node { return Neg(Softplus(Neg(x))) }
	losses := Neg(Add(MulScalar(logSig(bh), 1-s.smooth), MulScalar(logSig(Neg(bh)), s.smooth)))
	mean := func(x *Node) *Node { return Div(ReduceAllSum(Mul(x, pairW)), denom) }
	rewC := StopGradient(MulScalar(Sub(pc, rc), s.beta))
	rewR := StopGradient(MulScalar(Sub(pr, rr), s.beta))
	acc := ConvertDType(GreaterThan(rewC, rewR), dtypes.Float32)
	return []*Node{mean(losses), mean(Sub(rewC, rewR)), mean(acc), mean(rewC), mean(rewR)}
}
