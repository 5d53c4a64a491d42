package tinylm

import (
	"fmt"
	"sync"
	_ "unsafe" // for go:linkname

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the pure-Go backend
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/dagproject/dag/errdefs"
)

// backendConfig selects GoMLX's pure-Go backend with sequential op
// scheduling (the parallel executor deadlocked on 2-core machines; the
// ops themselves still use the worker pool).
var backendConfig = "go:ops_sequential"

// useLargeMatMul is the pure-Go backend's switch that sends every matmul
// to its packed ("large") kernel. Below 4Mi multiply-adds the backend
// otherwise takes a "small" kernel that reduces each output across a SIMD
// register, which for tinylm's shapes (256-512 token rows by 64-258
// features, and the transposed layouts of every backward pass) runs the
// training step about 1.6x slower, and 2-shard training 3x slower
// (bench/tinylm.sh). The backend reads no option for it, so it is set
// here; go.mod pins the version that has it, and one without it fails to
// link instead of running slowly.
//
//go:linkname useLargeMatMul github.com/gomlx/compute/internal/gobackend/dot/matmul.ForceLargeVariant
var useLargeMatMul bool

var getBackend = sync.OnceValues(func() (compute.Backend, error) {
	useLargeMatMul = true
	b, err := compute.NewWithConfig(backendConfig)
	if err != nil {
		return nil, fmt.Errorf("tinylm: backend %s: %v: %w", backendConfig, err, errdefs.ErrFailedPrecondition)
	}
	return b, nil
})

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
