package tinylm

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

// batch is one step's input: rows of tokens and targets, padded to a
// fixed shape, with a loss mask; for DPO a weight per pair.
type batch struct {
	rows, length int
	tokens       []int32   // [rows*length]
	targets      []int32   // [rows*length]
	mask         []float32 // [rows*length]
	pairW        []float32 // [rows/2], DPO only
}

func newBatch(rows, length int) *batch {
	n := rows * length
	return &batch{rows: rows, length: length, tokens: make([]int32, n), targets: make([]int32, n), mask: make([]float32, n)}
}

// setRow fills row r from seq: inputs seq[:-1], targets seq[1:]; the
// target at index j (predicting seq[j+1]) is in the loss when j+1 >=
// lossFrom. Positions past the sequence are padding (EOS, masked).
func (b *batch) setRow(r int, seq []int32, lossFrom int) {
	base := r * b.length
	for j := range b.length {
		b.tokens[base+j], b.targets[base+j], b.mask[base+j] = EOS, EOS, 0
		if j+1 < len(seq) {
			b.tokens[base+j] = seq[j]
			b.targets[base+j] = seq[j+1]
			if j+1 >= lossFrom {
				b.mask[base+j] = 1
			}
		}
	}
}

// trainShards is how many parts each batch is split into, their
// gradients computed at once, one goroutine each: the pure-Go backend runs
// one graph's ops one after another, so shards are what keeps a second
// core busy. The count is fixed, not the machine's core count, because it
// sets the order in which gradients are summed, and equal inputs must give
// equal bytes on every machine.
const trainShards = 2

// trainer holds the state of a training run on the device: the flat
// trainable weights with their Adam moments, and the frozen weights.
type trainer struct {
	prog   *stepProgram
	grads  [trainShards]*Exec // one per shard, so shards never share an executable
	update *Exec
	flat   *tensors.Tensor // the trainable weights, flat
	m, v   *tensors.Tensor // Adam moments, flat
	frozen []*tensors.Tensor
}

// newTrainer uploads the state: train and frozen weights by name (every
// name of prog.train and prog.frozen must be present) and the Adam
// moments adam.m.<name>, adam.v.<name> (nil opt means zero). It sets
// prog.shapes.
func newTrainer(prog *stepProgram, weights, opt Weights) (*trainer, error) {
	backend, err := getBackend()
	if err != nil {
		return nil, err
	}
	prog.shapes = nil
	for _, n := range prog.train {
		w, ok := weights[n]
		if !ok {
			return nil, fmt.Errorf("weights: no %s", n)
		}
		prog.shapes = append(prog.shapes, w.Shape)
	}
	size := prog.size()
	flatten := func(prefix string, src Weights) (*tensors.Tensor, error) {
		out := make([]float32, 0, size)
		for i, n := range prog.train {
			t := src[prefix+n]
			if t == nil {
				return nil, fmt.Errorf("state: no %s%s", prefix, n)
			}
			if !slices.Equal(t.Shape, prog.shapes[i]) {
				return nil, fmt.Errorf("state: %s%s has shape %v, want %v", prefix, n, t.Shape, prog.shapes[i])
			}
			out = append(out, t.Data...)
		}
		return tensors.FromFlatDataAndDimensions(out, size), nil
	}
	t := &trainer{prog: prog}
	if t.flat, err = flatten("", weights); err != nil {
		return nil, err
	}
	if opt == nil {
		t.m = tensors.FromFlatDataAndDimensions(make([]float32, size), size)
		t.v = tensors.FromFlatDataAndDimensions(make([]float32, size), size)
	} else {
		if t.m, err = flatten("adam.m.", opt); err != nil {
			return nil, err
		}
		if t.v, err = flatten("adam.v.", opt); err != nil {
			return nil, err
		}
	}
	for _, n := range prog.frozen {
		w, ok := weights[n]
		if !ok {
			return nil, fmt.Errorf("weights: no %s", n)
		}
		t.frozen = append(t.frozen, toTensor(w))
	}
	// The shards read the weights at once, and GoMLX moves a tensor to
	// the backend on first use without holding its lock for every check:
	// move them now, before any step.
	for _, x := range append([]*tensors.Tensor{t.flat, t.m, t.v}, t.frozen...) {
		if err := x.MaterializeOnDevice(backend, true, 0); err != nil {
			t.close()
			return nil, err
		}
	}
	for i := range t.grads {
		if t.grads[i], err = NewExec(backend, prog.grad); err != nil {
			t.close()
			return nil, err
		}
	}
	if t.update, err = NewExec(backend, prog.update); err != nil {
		t.close()
		return nil, err
	}
	return t, nil
}

// shards splits b into at most trainShards batches of whole rows (for
// DPO, whole pairs), in order.
func (b *batch) shards() []*batch {
	units := b.rows // rows, or pairs for DPO
	if b.pairW != nil {
		units = b.rows / 2
	}
	n := min(trainShards, units)
	out := make([]*batch, 0, n)
	for i := range n {
		lo, hi := i*units/n, (i+1)*units/n
		if b.pairW == nil {
			s := newBatch(hi-lo, b.length)
			copy(s.tokens, b.tokens[lo*b.length:hi*b.length])
			copy(s.targets, b.targets[lo*b.length:hi*b.length])
			copy(s.mask, b.mask[lo*b.length:hi*b.length])
			out = append(out, s)
			continue
		}
		// Chosen rows lo..hi, then their rejected rows units+lo..units+hi.
		s := newBatch(2*(hi-lo), b.length)
		for half, first := range [2]int{lo, units + lo} {
			dst := half * (hi - lo) * b.length
			src, end := first*b.length, (first+hi-lo)*b.length
			copy(s.tokens[dst:], b.tokens[src:end])
			copy(s.targets[dst:], b.targets[src:end])
			copy(s.mask[dst:], b.mask[src:end])
		}
		s.pairW = slices.Clone(b.pairW[lo:hi])
		out = append(out, s)
	}
	return out
}

// denominator is the batch's count that its mean loss divides by: loss
// tokens, or for DPO the pairs' total weight; at least 1.
func (b *batch) denominator() float32 {
	w := b.mask
	if b.pairW != nil {
		w = b.pairW
	}
	var sum float64
	for _, x := range w {
		sum += float64(x)
	}
	return float32(max(sum, 1))
}

// step runs one optimizer step (t is 1-based, for Adam's bias
// correction) and returns the metrics of stepMetrics[kind].
func (t *trainer) step(b *batch, lr float64, step int) ([]float64, error) {
	shards := b.shards()
	denom := b.denominator()
	outs := make([][]*tensors.Tensor, len(shards))
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, sb := range shards {
		args := t.gradArgs(sb, denom)
		wg.Go(func() { outs[i], errs[i] = t.grads[i].Exec(args...) })
	}
	wg.Wait()
	defer func() {
		for _, out := range outs {
			release(out)
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	// The metrics add up over shards, in shard order.
	metrics := make([]float64, len(outs[0])-1)
	args := []any{t.flat, t.m, t.v}
	for _, out := range outs {
		args = append(args, out[0])
		for j, x := range out[1:] {
			metrics[j] += scalarOf(x)
		}
	}
	bc1 := 1 - math.Pow(adamBeta1, float64(step))
	bc2 := 1 - math.Pow(adamBeta2, float64(step))
	args = append(args, float32(lr), float32(bc1), float32(bc2))
	next, err := t.update.Exec(args...)
	if err != nil {
		return nil, err
	}
	release([]*tensors.Tensor{t.flat, t.m, t.v})
	t.flat, t.m, t.v = next[0], next[1], next[2]
	return metrics, nil
}

// gradArgs returns the inputs of the grad graph for shard sb of a batch
// whose mean divides by denom.
func (t *trainer) gradArgs(sb *batch, denom float32) []any {
	args := make([]any, 0, 1+len(t.frozen)+5)
	args = append(args, t.flat)
	for _, x := range t.frozen {
		args = append(args, x)
	}
	args = append(args,
		tensors.FromFlatDataAndDimensions(sb.tokens, sb.rows, sb.length),
		tensors.FromFlatDataAndDimensions(sb.targets, sb.rows, sb.length),
		tensors.FromFlatDataAndDimensions(sb.mask, sb.rows, sb.length))
	if sb.pairW != nil {
		args = append(args, tensors.FromFlatDataAndDimensions(sb.pairW, len(sb.pairW)))
	}
	return append(args, denom)
}

// state copies the trainable weights and the Adam moments out, by name.
func (t *trainer) state() (weights, opt Weights) {
	weights, opt = Weights{}, Weights{}
	flat := tensors.MustCopyFlatData[float32](t.flat)
	m := tensors.MustCopyFlatData[float32](t.m)
	v := tensors.MustCopyFlatData[float32](t.v)
	off := 0
	for i, n := range t.prog.train {
		sh := t.prog.shapes[i]
		end := off + numel(sh)
		weights[n] = &Tensor{Shape: slices.Clone(sh), Data: slices.Clone(flat[off:end])}
		opt["adam.m."+n] = &Tensor{Shape: slices.Clone(sh), Data: slices.Clone(m[off:end])}
		opt["adam.v."+n] = &Tensor{Shape: slices.Clone(sh), Data: slices.Clone(v[off:end])}
		off = end
	}
	return weights, opt
}

// close frees the device state.
func (t *trainer) close() {
	release([]*tensors.Tensor{t.flat, t.m, t.v})
	release(t.frozen)
	for _, e := range append(t.grads[:], t.update) {
		if e != nil {
			e.Finalize()
		}
	}
}
