package tinylm

import (
	"fmt"
	"sync"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // the pure-Go backend
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/dagproject/dag/errdefs"
)

// backendConfig selects GoMLX's pure-Go backend with sequential op
// scheduling (the parallel executor deadlocked on 2-core machines; the
// ops themselves still use the worker pool).
const backendConfig = "go:ops_sequential"

var getBackend = sync.OnceValues(func() (compute.Backend, error) {
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
