package tinylm

import (
	"fmt"
	"math"
	"slices"

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

// trainer holds the state of a training run on the device: the flat
// trainable weights with their Adam moments, and the frozen weights.
type trainer struct {
	prog   *stepProgram
	exec   *Exec
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
	if t.exec, err = NewExec(backend, prog.build); err != nil {
		return nil, err
	}
	return t, nil
}

// step runs one optimizer step (t is 1-based, for Adam's bias
// correction) and returns the metrics of stepMetrics[kind].
func (t *trainer) step(b *batch, lr float64, step int) ([]float64, error) {
	args := make([]any, 0, 3+len(t.frozen)+7)
	args = append(args, t.flat, t.m, t.v)
	for _, x := range t.frozen {
		args = append(args, x)
	}
	args = append(args,
		tensors.FromFlatDataAndDimensions(b.tokens, b.rows, b.length),
		tensors.FromFlatDataAndDimensions(b.targets, b.rows, b.length),
		tensors.FromFlatDataAndDimensions(b.mask, b.rows, b.length))
	if b.pairW != nil {
		args = append(args, tensors.FromFlatDataAndDimensions(b.pairW, len(b.pairW)))
	}
	bc1 := 1 - math.Pow(adamBeta1, float64(step))
	bc2 := 1 - math.Pow(adamBeta2, float64(step))
	args = append(args, float32(lr), float32(bc1), float32(bc2))
	out, err := t.exec.Exec(args...)
	if err != nil {
		return nil, err
	}
	release([]*tensors.Tensor{t.flat, t.m, t.v})
	t.flat, t.m, t.v = out[0], out[1], out[2]
	metrics := make([]float64, 0, len(out)-3)
	for _, x := range out[3:] {
		metrics = append(metrics, scalarOf(x))
	}
	release(out[3:])
	return metrics, nil
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
	t.exec.Finalize()
}
