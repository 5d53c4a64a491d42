package tinylm

import (
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
)

func TestBackendSkipsIdentityTransposes(t *testing.T) {
	backend, err := getBackend()
	if err != nil {
		t.Fatal(err)
	}
	if !useLargeMatMul {
		t.Error("the backend's large-matmul switch is off")
	}
	var same, swapped bool
	exec, err := NewExec(backend, func(x *Node) []*Node {
		id := TransposeAllAxes(x, 0, 1)
		tr := TransposeAllAxes(x, 1, 0)
		same = InternalBackendOutputs(id)[0] == InternalBackendOutputs(x)[0]
		swapped = InternalBackendOutputs(tr)[0] != InternalBackendOutputs(x)[0]
		return []*Node{AddScalar(id, 1), tr}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()
	x := tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	out, err := exec.Exec(x)
	if err != nil {
		t.Fatal(err)
	}
	if !same || !swapped {
		t.Errorf("identity transpose reuses its input: %v; real transpose is its own op: %v", same, swapped)
	}
	if got := tensors.MustCopyFlatData[float32](out[0]); !slices.Equal(got, []float32{2, 3, 4, 5, 6, 7}) {
		t.Errorf("x+1 through an identity transpose = %v", got)
	}
	if got := tensors.MustCopyFlatData[float32](out[1]); !slices.Equal(got, []float32{1, 4, 2, 5, 3, 6}) {
		t.Errorf("transpose = %v", got)
	}

	// An output goes back in as an input: buffers must name the wrapper.
	again, err := exec.Exec(out[1])
	if err != nil {
		t.Fatal(err)
	}
	if got := tensors.MustCopyFlatData[float32](again[1]); !slices.Equal(got, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("transposed twice = %v", got)
	}
}
