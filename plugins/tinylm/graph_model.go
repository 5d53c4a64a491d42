package tinylm

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph" //nolint:revive // graph code reads better unqualified
)

// netParams maps parameter names to graph nodes.
type netParams map[string]*Node

// forward returns the logits [B, T, V] for tokens [B, T] (int32, T <=
// context). With lora non-nil, the adapters in p (named as in
// params_model.go) are added to their target modules, scaled by
// lora.scale().
func forward(c Config, p netParams, tokens *Node, lora *loraSpec) *Node {
	g := tokens.Graph()
	B, T := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	d, H := c.DModel, c.Heads
	dh := d / H

	x := Gather(p["tok_emb"], InsertAxes(tokens, -1)) // [B, T, d]
	pos := Slice(p["pos_emb"], AxisRange(0, T))       // [T, d]
	x = Add(x, InsertAxes(pos, 0))
	x = Reshape(x, B*T, d)

	adapted := map[string]bool{}
	if lora != nil {
		for _, n := range lora.targets(c) {
			adapted[n] = true
		}
	}
	linear := func(x *Node, name string) *Node {
		y := MatMul(x, p[name])
		if adapted[name] {
			ab := MatMul(MatMul(x, p[name+".lora_a"]), p[name+".lora_b"])
			y = Add(y, MulScalar(ab, lora.scale()))
		}
		return y
	}

	// Causal mask as an additive bias [1, 1, T, T].
	mask := Where(LowerTriangular(g, T), Scalar(g, dtypes.Float32, 0), Scalar(g, dtypes.Float32, -1e9))
	mask = Reshape(mask, 1, 1, T, T)
	attnScale := 1 / math.Sqrt(float64(dh))

	for i := range c.Layers {
		bn := func(s string) string { return blockName(i, s) }
		h := layerNorm(x, p[bn("ln1.g")], p[bn("ln1.b")])
		q, k, v := projectQKV(h, p, bn, adapted, lora)
		q, k, v = Reshape(q, B, T, H, dh), Reshape(k, B, T, H, dh), Reshape(v, B, T, H, dh)
		scores := MulScalar(Einsum("bqhd,bkhd->bhqk", q, k), attnScale)
		att := softmax(Add(scores, mask))
		o := Reshape(Einsum("bhqk,bkhd->bqhd", att, v), B*T, d)
		x = Add(x, linear(o, bn("attn.o")))

		h = layerNorm(x, p[bn("ln2.g")], p[bn("ln2.b")])
		h = gelu(linear(h, bn("mlp.up")))
		x = Add(x, linear(h, bn("mlp.down")))
	}
	x = layerNorm(x, p["ln_f.g"], p["ln_f.b"])
	logits := MatMul(x, p["lm_head"])
	return Reshape(logits, B, T, c.VocabSize)
}

// projectQKV returns h's query, key and value projections [N, d] from one
// matmul against the three weights side by side: one [N, 3d] product is
// cheaper on the pure-Go backend than three [N, d] ones, forward and
// backward (its gradient transposes h once, not three times).
func projectQKV(h *Node, p netParams, bn func(string) string, adapted map[string]bool, lora *loraSpec) (q, k, v *Node) {
	names := [3]string{bn("attn.q"), bn("attn.k"), bn("attn.v")}
	d := p[names[0]].Shape().Dimensions[1]
	qkv := MatMul(h, Concatenate([]*Node{p[names[0]], p[names[1]], p[names[2]]}, 1))
	var out [3]*Node
	for i, name := range names {
		out[i] = Slice(qkv, AxisRange(), AxisRange(i*d, (i+1)*d))
		if adapted[name] {
			ab := MatMul(MatMul(h, p[name+".lora_a"]), p[name+".lora_b"])
			out[i] = Add(out[i], MulScalar(ab, lora.scale()))
		}
	}
	return out[0], out[1], out[2]
}

// layerNorm normalises the last axis of x [N, d] (eps 1e-5) and applies
// gain and bias [d].
func layerNorm(x, gain, bias *Node) *Node {
	mean := ReduceAndKeep(x, ReduceMean, -1)
	xc := Sub(x, mean)
	variance := ReduceAndKeep(Square(xc), ReduceMean, -1)
	y := Div(xc, Sqrt(AddScalar(variance, 1e-5)))
	return Add(Mul(y, InsertAxes(gain, 0)), InsertAxes(bias, 0))
}

// gelu is the tanh approximation (PyTorch's GELU(approximate="tanh")).
func gelu(x *Node) *Node {
	inner := MulScalar(Add(x, MulScalar(Mul(Square(x), x), 0.044715)), math.Sqrt(2/math.Pi))
	return Mul(MulScalar(x, 0.5), OnePlus(Tanh(inner)))
}

// softmax is Softmax over the last axis with a hand-written gradient:
// the value comes from the backend's fused softmax (fast exp), and the
// gradient p*(dy - sum(dy*p)) reuses p instead of recomputing exp, which
// GoMLX's decomposed gradient path would do with a slow float64 exp.
func softmax(x *Node) *Node {
	p := StopGradient(Softmax(x, -1))
	zero := Sub(x, StopGradient(x)) // value 0, gradient identity
	zero = IdentityWithCustomGradient(zero, func(_, dy *Node) *Node {
		return Mul(p, Sub(dy, ReduceAndKeep(Mul(dy, p), ReduceSum, -1)))
	})
	return Add(p, zero)
}

// tokenLogprobs returns log p(targets | prefix) [B, T] and whether each
// target was the argmax [B, T] (float32 0/1) from logits [B, T, V].
//
// log-sum-exp comes from the fused softmax: with m the max logit,
// sum exp(l - m) = 1/max(softmax), so lse = m - log(max(softmax)). The
// gradient with respect to the logits is dy*(onehot - p), again reusing p.
func tokenLogprobs(logits, targets *Node, vocab int) (logp, greedy *Node) {
	p := StopGradient(Softmax(logits, -1))
	m := StopGradient(ReduceMax(logits, -1))
	lse := Sub(m, Log(ReduceMax(p, -1)))
	// The target's logit, gathered from the flat logits: its gradient
	// touches one element per position, where a one-hot product would
	// touch the whole vocabulary.
	B, T := targets.Shape().Dimensions[0], targets.Shape().Dimensions[1]
	flatIdx := Add(MulScalar(Iota(targets.Graph(), shapes.Make(dtypes.Int64, B*T), 0), float64(vocab)),
		ConvertDType(Reshape(targets, B*T), dtypes.Int64)) // int64: B*T*vocab may pass 2^31
	picked := Reshape(Gather(Reshape(logits, B*T*vocab), Reshape(flatIdx, B*T, 1)), B, T)
	zero := Sub(logits, StopGradient(logits))
	zero = IdentityWithCustomGradient(zero, func(_, dy *Node) *Node { return Neg(Mul(p, dy)) })
	logp = Add(Sub(picked, lse), ReduceSum(zero, -1))
	best := ArgMax(logits, -1, dtypes.Int32)
	greedy = ConvertDType(Equal(best, targets), dtypes.Float32)
	return logp, greedy
}
