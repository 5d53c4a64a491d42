package tinylm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Parameter names. Matrices are [in, out] (y = x W). Block i's names start
// with "blocks.<i>.".
//
//	tok_emb [V, d]  pos_emb [context, d]
//	blocks.<i>.ln1.g, ln1.b [d]
//	blocks.<i>.attn.q, attn.k, attn.v, attn.o [d, d]
//	blocks.<i>.ln2.g, ln2.b [d]
//	blocks.<i>.mlp.up [d, 4d], mlp.down [4d, d]
//	ln_f.g, ln_f.b [d]  lm_head [d, V]
//
// A LoRA adapter on module m of block i adds blocks.<i>.<m>.lora_a [in, r]
// and blocks.<i>.<m>.lora_b [r, out]; the merged weight is
// W + (alpha/r) lora_a lora_b.

// loraModules maps the target-module names accepted in lora.target_modules
// to parameter suffixes.
var loraModules = map[string]string{
	"q": "attn.q", "k": "attn.k", "v": "attn.v", "o": "attn.o",
	"up": "mlp.up", "down": "mlp.down",
}

// loraModuleNames is the order in which target modules are listed.
var loraModuleNames = []string{"q", "k", "v", "o", "up", "down"}

// canonicalModule maps an accepted spelling ("q", "q_proj", "up_proj") to
// its name in loraModules, or "" when unknown.
func canonicalModule(s string) string {
	s = strings.TrimSuffix(s, "_proj")
	if _, ok := loraModules[s]; ok {
		return s
	}
	return ""
}

func blockName(i int, suffix string) string { return fmt.Sprintf("blocks.%d.%s", i, suffix) }

// shapes returns every base parameter of c with its shape.
func (c Config) shapes() map[string][]int {
	d, V := c.DModel, c.VocabSize
	s := map[string][]int{
		"tok_emb": {V, d}, "pos_emb": {c.Context, d},
		"ln_f.g": {d}, "ln_f.b": {d}, "lm_head": {d, V},
	}
	for i := range c.Layers {
		for _, n := range []string{"ln1.g", "ln1.b", "ln2.g", "ln2.b"} {
			s[blockName(i, n)] = []int{d}
		}
		for _, n := range []string{"attn.q", "attn.k", "attn.v", "attn.o"} {
			s[blockName(i, n)] = []int{d, d}
		}
		s[blockName(i, "mlp.up")] = []int{d, c.MLPHidden}
		s[blockName(i, "mlp.down")] = []int{c.MLPHidden, d}
	}
	return s
}

// initWeights returns fresh weights for c drawn from seed: GPT-2's scheme
// (normal, std 0.02; the residual projections attn.o and mlp.down scaled
// by 1/sqrt(2 layers); LayerNorm gains 1, biases 0). Names are visited in
// sorted order, so the result depends on seed and c only.
func initWeights(c Config, seed uint64) Weights {
	rng := rand.New(rand.NewPCG(seed, 0x74696e796c6d)) // "tinylm"
	shapes := c.shapes()
	w := Weights{}
	for n, s := range shapes {
		w[n] = newTensor(s...)
	}
	for _, n := range w.names() {
		t := w[n]
		switch {
		case strings.HasSuffix(n, ".g"):
			for i := range t.Data {
				t.Data[i] = 1
			}
		case strings.HasSuffix(n, ".b"):
		default:
			std := 0.02
			if strings.HasSuffix(n, "attn.o") || strings.HasSuffix(n, "mlp.down") {
				std /= math.Sqrt(2 * float64(c.Layers))
			}
			for i := range t.Data {
				t.Data[i] = float32(rng.NormFloat64() * std)
			}
		}
	}
	return w
}

// loraSpec says which modules carry an adapter.
type loraSpec struct {
	Rank    int
	Alpha   float64
	Modules []string // canonical names, in loraModuleNames order
}

func (l loraSpec) scale() float64 { return l.Alpha / float64(l.Rank) }

// targets returns the base parameter names that carry an adapter.
func (l loraSpec) targets(c Config) []string {
	var out []string
	for i := range c.Layers {
		for _, m := range l.Modules {
			out = append(out, blockName(i, loraModules[m]))
		}
	}
	return out
}

// initLoRA returns fresh adapters: lora_a uniform in +-1/sqrt(in) (PEFT's
// Kaiming-uniform bound), lora_b zero, so the adapted model starts equal to
// the base.
func initLoRA(c Config, l loraSpec, seed uint64) Weights {
	rng := rand.New(rand.NewPCG(seed, 0x6c6f7261)) // "lora"
	shapes := c.shapes()
	w := Weights{}
	for _, n := range l.targets(c) {
		s := shapes[n]
		a := newTensor(s[0], l.Rank)
		bound := 1 / math.Sqrt(float64(s[0]))
		for i := range a.Data {
			a.Data[i] = float32((2*rng.Float64() - 1) * bound)
		}
		w[n+".lora_a"] = a
		w[n+".lora_b"] = newTensor(l.Rank, s[1])
	}
	return w
}

// mergeLoRA returns base with every adapter of l folded in:
// W + scale * A B, accumulated in float64 in a fixed order.
func mergeLoRA(c Config, base, adapters Weights, l loraSpec) Weights {
	out := Weights{}
	for n, t := range base {
		out[n] = t
	}
	scale := l.scale()
	for _, n := range l.targets(c) {
		w := base[n].clone()
		a, b := adapters[n+".lora_a"], adapters[n+".lora_b"]
		in, outDim, r := w.Shape[0], w.Shape[1], l.Rank
		for i := range in {
			for j := range outDim {
				var s float64
				for k := range r {
					s += float64(a.Data[i*r+k]) * float64(b.Data[k*outDim+j])
				}
				w.Data[i*outDim+j] += float32(scale * s)
			}
		}
		out[n] = w
	}
	return out
}
