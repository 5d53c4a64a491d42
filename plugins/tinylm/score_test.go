package tinylm

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/sdk/sdktest"
)

// refLogits is an independent float64 implementation of the forward pass
// described in Config's doc, written with plain loops.
func refLogits(c Config, w Weights, tokens []int32) [][]float64 {
	d, H, T := c.DModel, c.Heads, len(tokens)
	dh := d / H
	at := func(name string, i, j int) float64 { t := w[name]; return float64(t.Data[i*t.Shape[1]+j]) }
	vec := func(name string, i int) float64 { return float64(w[name].Data[i]) }
	matmul := func(x [][]float64, name string) [][]float64 {
		out := make([][]float64, len(x))
		cols := w[name].Shape[1]
		for t := range x {
			out[t] = make([]float64, cols)
			for j := range cols {
				for i := range x[t] {
					out[t][j] += x[t][i] * at(name, i, j)
				}
			}
		}
		return out
	}
	norm := func(x [][]float64, g, b string) [][]float64 {
		out := make([][]float64, len(x))
		for t, row := range x {
			var mean, v float64
			for _, a := range row {
				mean += a
			}
			mean /= float64(len(row))
			for _, a := range row {
				v += (a - mean) * (a - mean)
			}
			v /= float64(len(row))
			out[t] = make([]float64, len(row))
			for i, a := range row {
				out[t][i] = (a-mean)/math.Sqrt(v+1e-5)*vec(g, i) + vec(b, i)
			}
		}
		return out
	}
	x := make([][]float64, T)
	for t, tok := range tokens {
		x[t] = make([]float64, d)
		for i := range d {
			x[t][i] = at("tok_emb", int(tok), i) + at("pos_emb", t, i)
		}
	}
	for l := range c.Layers {
		bn := func(s string) string { return blockName(l, s) }
		h := norm(x, bn("ln1.g"), bn("ln1.b"))
		q, k, v := matmul(h, bn("attn.q")), matmul(h, bn("attn.k")), matmul(h, bn("attn.v"))
		o := make([][]float64, T)
		for t := range T {
			o[t] = make([]float64, d)
			for hd := range H {
				scores := make([]float64, t+1)
				mx := math.Inf(-1)
				for s := 0; s <= t; s++ {
					for e := range dh {
						scores[s] += q[t][hd*dh+e] * k[s][hd*dh+e]
					}
					scores[s] /= math.Sqrt(float64(dh))
					mx = math.Max(mx, scores[s])
				}
				var z float64
				for s := range scores {
					scores[s] = math.Exp(scores[s] - mx)
					z += scores[s]
				}
				for s := range scores {
					for e := range dh {
						o[t][hd*dh+e] += scores[s] / z * v[s][hd*dh+e]
					}
				}
			}
		}
		proj := matmul(o, bn("attn.o"))
		for t := range x {
			for i := range x[t] {
				x[t][i] += proj[t][i]
			}
		}
		h = matmul(norm(x, bn("ln2.g"), bn("ln2.b")), bn("mlp.up"))
		for t := range h {
			for i, a := range h[t] {
				h[t][i] = 0.5 * a * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(a+0.044715*a*a*a)))
			}
		}
		down := matmul(h, bn("mlp.down"))
		for t := range x {
			for i := range x[t] {
				x[t][i] += down[t][i]
			}
		}
	}
	return matmul(norm(x, "ln_f.g", "ln_f.b"), "lm_head")
}

// refScore computes a request's result from refLogits.
func refScore(c Config, w Weights, q plugins.LoglikelihoodRequest, addBOS bool) plugins.LoglikelihoodResult {
	row := layout(q, c.Context, addBOS)
	n := len(row.seq) - 1
	logits := refLogits(c, w, row.seq[:n])
	res := plugins.LoglikelihoodResult{Tokens: row.nCont, Greedy: true}
	for j := n - row.nCont; j < n; j++ {
		mx, best := math.Inf(-1), 0
		for v, l := range logits[j] {
			if l > mx {
				mx, best = l, v
			}
		}
		var z float64
		for _, l := range logits[j] {
			z += math.Exp(l - mx)
		}
		target := row.seq[j+1]
		res.Logprob += logits[j][target] - mx - math.Log(z)
		res.Greedy = res.Greedy && best == int(target)
	}
	return res
}

var scoreRequests = []plugins.LoglikelihoodRequest{
	{Context: "The zorbs like", Continuation: " gardens."},
	{Context: "The zorbs like", Continuation: " xylophones."},
	{Context: "Many people talk about ", Continuation: "stars"}, // trailing space moves to the continuation
	{Context: "", Continuation: "The quilps like rivers."},      // empty context: EOS
	{BOSContext: true, Continuation: "The quilps like rivers."}, // per-sentence perplexity
	{Context: "The mavens", Continuation: ""},
	{Context: "Long context that gets cut on the left because the model only sees sixty-four tokens at once:", Continuation: " ok"},
	{Context: "é ü 日本", Continuation: " 語"},
	{Context: "The", Continuation: " "},
}

func TestScoreMatchesReference(t *testing.T) {
	dir := baseModel(t)
	c, w, err := readModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, addBOS := range []bool{false, true} {
		params := `{"score_batch_size": 4}`
		if addBOS {
			params = `{"score_batch_size": 4, "add_bos": true}`
		}
		got := score(t, dir, params, scoreRequests)
		for i, q := range scoreRequests {
			want := refScore(c, w, q, addBOS)
			g := got[i]
			if g.Tokens != want.Tokens || math.Abs(g.Logprob-want.Logprob) > 1e-4*math.Max(1, math.Abs(want.Logprob)) {
				t.Errorf("add_bos=%v request %d %+v: got %+v, reference %+v", addBOS, i, q, g, want)
			}
			// Greedy may flip only on a near tie; the toy model has none here.
			if g.Greedy != want.Greedy {
				t.Errorf("add_bos=%v request %d: greedy %v, reference %v", addBOS, i, g.Greedy, want.Greedy)
			}
		}
	}
	// Token counts follow the harness's split.
	got := score(t, dir, `{}`, scoreRequests)
	for i, want := range []int{9, 12, 6, 23, 23, 0, 3, 4, 1} {
		if got[i].Tokens != want {
			t.Errorf("request %d: %d tokens, want %d", i, got[i].Tokens, want)
		}
	}
	// Perplexity of a BOS-context request is finite and > 1.
	if ppl := math.Exp(-got[4].Logprob / float64(got[4].Tokens)); !(ppl > 1) || math.IsInf(ppl, 0) {
		t.Errorf("perplexity %v", ppl)
	}
}

func TestScoreFileMode(t *testing.T) {
	dir := baseModel(t)
	tmp := t.TempDir()
	reqPath, outPath := filepath.Join(tmp, "req.jsonl"), filepath.Join(tmp, "out.jsonl")
	writeFile(t, tmp, "req.jsonl", `{"context": "The zorbs like", "continuation": " gardens."}`+"\n"+`{"context": "", "continuation": "Hi.", "bos_context": true}`+"\n")
	res, err := New().Score(t.Context(), plugins.ScoreRequest{Checkpoint: dir, RequestsPath: reqPath, OutputPath: outPath})
	if err != nil || res.Count != 2 {
		t.Fatalf("file mode: %+v, %v", res, err)
	}
	inline := score(t, dir, `{}`, scoreRequests[:1])
	f := readResults(t, outPath)
	if len(f) != 2 || f[0] != inline[0] || f[1].Tokens != 3 {
		t.Errorf("file results %+v, inline %+v", f, inline)
	}
}

func TestConformance(t *testing.T) {
	sdktest.Conformance(t, New(), sdktest.Fixture{Checkpoint: baseModel(t), Requests: scoreRequests})
}
