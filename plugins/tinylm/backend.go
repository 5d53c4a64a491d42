package tinylm

import (
	"fmt"
	"sync"
	_ "unsafe" // for go:linkname

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the pure-Go backend
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/dagproject/dag/errdefs"
)

// backendConfig selects GoMLX's pure-Go backend with sequential op
// scheduling: its parallel executor deadlocks on 2-core machines (ops
// wait for the worker pool they occupy). Large ops still use the pool,
// and training keeps the cores busy with shards (trainShards).
const backendConfig = "go:ops_sequential"

// useLargeMatMul is the pure-Go backend's switch that sends every matmul
// to its packed ("large") kernel. Below 4Mi multiply-adds the backend
// otherwise takes a "small" kernel that reduces each output across a SIMD
// register; with tinylm's shapes (shards of 256 tokens by 64-258
// features, and the transposed layouts of every backward pass) that makes
// a training step at the default size about 3.5x slower. The backend reads
// no option for it, so it is set here. go.mod pins the version that has
// it; since a link to a missing symbol would build anyway, as a variable
// of this package, TestLargeMatMulSwitchIsBound checks the kernel taken.
//
//go:linkname useLargeMatMul github.com/gomlx/compute/internal/gobackend/dot/matmul.ForceLargeVariant
var useLargeMatMul bool

var getBackend = sync.OnceValues(func() (compute.Backend, error) {
	useLargeMatMul = true
	b, err := compute.NewWithConfig(backendConfig)
	if err != nil {
		return nil, fmt.Errorf("tinylm: backend %s: %v: %w", backendConfig, err, errdefs.ErrFailedPrecondition)
	}
	return &skipIdentityTransposes{b}, nil
})

// skipIdentityTransposes wraps a backend so that a transpose that keeps
// every axis in place is no op at all. GoMLX's matmul gradient always
// ends in a transpose back to the operand's axis order, usually the
// identity, and the pure-Go backend copies the tensor element by element
// for it: about a tenth of a training step's time.
//
// GoMLX ties each tensor to the backend its buffer names, so the wrapper
// also wraps buffers (naming the wrapper) and executables (unwrapping
// their inputs); everything else passes through.
type skipIdentityTransposes struct{ compute.Backend }

func (b *skipIdentityTransposes) Builder(name string) compute.Builder {
	return wrappedBuilder{b.Backend.Builder(name), b}
}

func (b *skipIdentityTransposes) BufferFromFlatData(dev compute.DeviceNum, flat any, shape shapes.Shape) (compute.Buffer, error) {
	buf, err := b.Backend.BufferFromFlatData(dev, flat, shape)
	return b.wrap(buf), err
}

func (b *skipIdentityTransposes) NewSharedBuffer(dev compute.DeviceNum, shape shapes.Shape) (compute.Buffer, any, error) {
	buf, flat, err := b.Backend.NewSharedBuffer(dev, shape)
	return b.wrap(buf), flat, err
}

func (b *skipIdentityTransposes) wrap(buf compute.Buffer) compute.Buffer {
	if buf == nil {
		return nil
	}
	return wrappedBuffer{buf, b}
}

type wrappedBuffer struct {
	compute.Buffer
	owner *skipIdentityTransposes
}

func (x wrappedBuffer) Backend() compute.Backend { return x.owner }

func (x wrappedBuffer) CopyToDevice(dev compute.DeviceNum) (compute.Buffer, error) {
	buf, err := x.Buffer.CopyToDevice(dev)
	return x.owner.wrap(buf), err
}

type wrappedBuilder struct {
	compute.Builder
	owner *skipIdentityTransposes
}

func (b wrappedBuilder) Main() compute.Function { return wrappedFunction{b.Builder.Main()} }

func (b wrappedBuilder) Compile() (compute.Executable, error) {
	e, err := b.Builder.Compile()
	if err != nil {
		return nil, err
	}
	return wrappedExecutable{e, b.owner}, nil
}

type wrappedFunction struct{ compute.Function }

func (f wrappedFunction) Transpose(x compute.Value, permutation ...int) (compute.Value, error) {
	for i, axis := range permutation {
		if axis != i {
			return f.Function.Transpose(x, permutation...)
		}
	}
	return x, nil
}

// DotGeneral takes a cheaper path for products that contract the first
// non-batch axis of both operands, out[c1, c2] = sum_n lhs[n, c1]
// rhs[n, c2]: every weight gradient, and attention's key and value
// gradients. The backend would copy both operands into a transposed
// layout, element by element; one transpose, of lhs or (computing out
// transposed) of rhs and out, whichever moves fewer elements, gives the
// same products.
func (f wrappedFunction) DotGeneral(lhs compute.Value, lhsContracting, lhsBatch []int,
	rhs compute.Value, rhsContracting, rhsBatch []int, config compute.DotGeneralConfig) (compute.Value, error) {
	ls, err := f.Shape(lhs)
	if err != nil {
		return nil, err
	}
	rs, err := f.Shape(rhs)
	if err != nil {
		return nil, err
	}
	nb := len(lhsBatch)
	if !leadingContraction(ls, lhsContracting, lhsBatch) || !leadingContraction(rs, rhsContracting, rhsBatch) {
		return f.Function.DotGeneral(lhs, lhsContracting, lhsBatch, rhs, rhsContracting, rhsBatch, config)
	}
	swap := make([]int, nb+2) // swaps the two non-batch axes
	for i := range swap {
		swap[i] = i
	}
	swap[nb], swap[nb+1] = nb+1, nb
	outSize := ls.Size() / ls.Dimensions[nb] * rs.Dimensions[nb+1]
	if ls.Size() <= rs.Size()+outSize {
		lt, err := f.Function.Transpose(lhs, swap...)
		if err != nil {
			return nil, err
		}
		return f.Function.DotGeneral(lt, []int{nb + 1}, lhsBatch, rhs, rhsContracting, rhsBatch, config)
	}
	rt, err := f.Function.Transpose(rhs, swap...)
	if err != nil {
		return nil, err
	}
	outT, err := f.Function.DotGeneral(rt, []int{nb + 1}, rhsBatch, lhs, lhsContracting, lhsBatch, config)
	if err != nil {
		return nil, err
	}
	return f.Function.Transpose(outT, swap...)
}

// leadingContraction reports whether s is [batch..., n, c] with batch
// axes 0.. in order and the single contracting axis n.
func leadingContraction(s shapes.Shape, contracting, batch []int) bool {
	if s.Rank() != len(batch)+2 || len(contracting) != 1 || contracting[0] != len(batch) {
		return false
	}
	for i, axis := range batch {
		if axis != i {
			return false
		}
	}
	return true
}

type wrappedExecutable struct {
	compute.Executable
	owner *skipIdentityTransposes
}

func (e wrappedExecutable) Execute(inputs []compute.Buffer, donate []bool, dev compute.DeviceNum) ([]compute.Buffer, error) {
	inner := make([]compute.Buffer, len(inputs))
	for i, in := range inputs {
		if w, ok := in.(wrappedBuffer); ok {
			in = w.Buffer
		}
		inner[i] = in
	}
	outs, err := e.Executable.Execute(inner, donate, dev)
	for i := range outs {
		outs[i] = e.owner.wrap(outs[i])
	}
	return outs, err
}

// toTensor copies t into a GoMLX tensor.
func toTensor(t *Tensor) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(t.Data, t.Shape...)
}

// fromTensor copies a float32 GoMLX tensor out.
func fromTensor(t *tensors.Tensor) *Tensor {
	return &Tensor{Shape: t.Shape().Dimensions, Data: tensors.MustCopyFlatData[float32](t)}
}

// scalarOf returns a scalar float32 tensor's value.
func scalarOf(t *tensors.Tensor) float64 {
	return float64(tensors.MustCopyFlatData[float32](t)[0])
}

// release frees ts' storage now rather than at garbage collection.
func release(ts []*tensors.Tensor) {
	for _, t := range ts {
		if t != nil {
			_ = t.FinalizeAll() // best effort: the GC frees it otherwise
		}
	}
}
