package tinylm

import (
	"math/rand/v2"
)

// A sampler gives the batch of each step as a pure function of the step
// (and the seed), so a run resumed at step s sees exactly the batches an
// uninterrupted run sees from s on: the data-order state of a checkpoint
// is its step.
type sampler interface {
	// batch returns the input of 0-based step s.
	batch(s int) *batch
	// stepsPerEpoch is the number of steps of one pass over the data.
	stepsPerEpoch() int
}

// The stream ids of the seeded generators, so that initialisation and
// data order draw from unrelated streams.
const (
	streamWindows = 0x77696e646f77 // "window"
	streamShuffle = 0x73687566     // "shuf"
)

// bucket returns the padded length for sequences of n inputs: the
// smallest power of two >= n (at least 16), capped at limit. Few
// distinct lengths mean few graph compilations.
func bucket(n, limit int) int {
	b := 16
	for b < n {
		b *= 2
	}
	return min(b, limit)
}

// windowSampler draws batchSize random windows of window+1 tokens from a
// token stream (pretraining).
type windowSampler struct {
	stream    []int32
	window    int
	batchSize int
	seed      uint64
}

func (w *windowSampler) stepsPerEpoch() int {
	return max(1, len(w.stream)/(w.batchSize*w.window))
}

func (w *windowSampler) batch(s int) *batch {
	rng := rand.New(rand.NewPCG(w.seed^streamWindows, uint64(s)))
	if len(w.stream) < w.window+1 { // a corpus shorter than one window
		b := newBatch(w.batchSize, bucket(len(w.stream)-1, w.window))
		for r := range w.batchSize {
			b.setRow(r, w.stream, 1)
		}
		return b
	}
	b := newBatch(w.batchSize, w.window)
	for r := range w.batchSize {
		off := rng.IntN(len(w.stream) - w.window)
		b.setRow(r, w.stream[off:off+w.window+1], 1)
	}
	return b
}

// example is one training sequence with the index of its first token
// in the loss (SFT: the first response token).
type example struct {
	seq      []int32
	lossFrom int
}

// shuffled returns the order of n items in epoch e.
func shuffled(seed uint64, e, n int) []int {
	return rand.New(rand.NewPCG(seed^streamShuffle, uint64(e))).Perm(n)
}

// exampleSampler batches SFT examples, reshuffled every epoch; the last
// batch of an epoch is filled with masked padding rows.
type exampleSampler struct {
	examples  []example
	batchSize int
	maxLen    int // most inputs per row
	seed      uint64
}

func (x *exampleSampler) stepsPerEpoch() int {
	return (len(x.examples) + x.batchSize - 1) / x.batchSize
}

func (x *exampleSampler) pick(s int) []int {
	spe := x.stepsPerEpoch()
	e, j := s/spe, s%spe
	perm := shuffled(x.seed, e, len(x.examples))
	return perm[j*x.batchSize : min((j+1)*x.batchSize, len(perm))]
}

func (x *exampleSampler) batch(s int) *batch {
	idx := x.pick(s)
	longest := 1
	for _, i := range idx {
		longest = max(longest, len(x.examples[i].seq)-1)
	}
	b := newBatch(x.batchSize, bucket(longest, x.maxLen))
	for r, i := range idx {
		b.setRow(r, x.examples[i].seq, x.examples[i].lossFrom)
	}
	return b
}

// pairSampler batches DPO pairs: rows [0, B) are the chosen sequences and
// rows [B, 2B) the rejected ones.
type pairSampler struct {
	chosen, rejected []example
	batchSize        int
	maxLen           int
	seed             uint64
}

func (x *pairSampler) stepsPerEpoch() int {
	return (len(x.chosen) + x.batchSize - 1) / x.batchSize
}

func (x *pairSampler) batch(s int) *batch {
	spe := x.stepsPerEpoch()
	e, j := s/spe, s%spe
	perm := shuffled(x.seed, e, len(x.chosen))
	idx := perm[j*x.batchSize : min((j+1)*x.batchSize, len(perm))]
	longest := 1
	for _, i := range idx {
		longest = max(longest, len(x.chosen[i].seq)-1, len(x.rejected[i].seq)-1)
	}
	B := x.batchSize
	b := newBatch(2*B, bucket(longest, x.maxLen))
	b.pairW = make([]float32, B)
	for r, i := range idx {
		b.setRow(r, x.chosen[i].seq, x.chosen[i].lossFrom)
		b.setRow(B+r, x.rejected[i].seq, x.rejected[i].lossFrom)
		b.pairW[r] = 1
	}
	return b
}

// sftExamples builds the SFT sequences: BOS, the rendered prompt, the
// response and EOS, cut to maxLen+1 tokens (keeping the start); the loss
// covers the response and EOS.
func sftExamples(recs []sftRecord, template string, maxLen int) []example {
	out := make([]example, len(recs))
	for i, r := range recs {
		prompt := append([]int32{BOS}, encode(renderPrompt(template, r.System, *r.Prompt))...)
		seq := append(append(prompt, encode(*r.Response)...), EOS)
		if len(seq) > maxLen+1 {
			seq = seq[:maxLen+1]
		}
		out[i] = example{seq: seq, lossFrom: len(prompt)}
	}
	return out
}

// dpoExamples builds the chosen and rejected sequences of each pair as
// TRL v0.7 does: BOS and the rendered prompt, then the answer and EOS.
// When a pair is longer than maxLen+1 tokens the prompt keeps its end,
// at most half the length (BOS stays first), then the answers are cut.
func dpoExamples(recs []dpoRecord, template string, maxLen int) (chosen, rejected []example) {
	L := maxLen + 1
	for _, r := range recs {
		prompt := append([]int32{BOS}, encode(renderPrompt(template, "", *r.Prompt))...)
		ch := append(encode(*r.Chosen), EOS)
		rj := append(encode(*r.Rejected), EOS)
		if len(prompt)+max(len(ch), len(rj)) > L {
			if keep := max(L/2, 1); len(prompt) > keep {
				prompt = append([]int32{BOS}, prompt[len(prompt)-keep+1:]...)
			}
			room := L - len(prompt)
			ch, rj = ch[:min(len(ch), room)], rj[:min(len(rj), room)]
		}
		chosen = append(chosen, example{seq: append(append([]int32{}, prompt...), ch...), lossFrom: len(prompt)})
		rejected = append(rejected, example{seq: append(append([]int32{}, prompt...), rj...), lossFrom: len(prompt)})
	}
	return chosen, rejected
}
