package tinylm

import (
	"math"
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

// TestBackendLeadingContraction checks the backend's cheaper path for
// products contracting the first non-batch axis of both operands, both
// ways round (transposing lhs, or rhs and the output), with 0 to 2 batch
// axes, against products computed here.
func TestBackendLeadingContraction(t *testing.T) {
	backend, err := getBackend()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		batch     []int // batch dimensions
		n, c1, c2 int
	}{
		{"transpose lhs", nil, 7, 3, 40},  // |lhs| 21 < |rhs|+|out| 400
		{"transpose rhs", nil, 40, 30, 2}, // |lhs| 1200 > |rhs|+|out| 140
		{"one batch axis", []int{2}, 5, 4, 6},
		{"two batch axes", []int{2, 3}, 9, 8, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nb, batches := len(tc.batch), 1
			for _, d := range tc.batch {
				batches *= d
			}
			lhs := make([]float32, batches*tc.n*tc.c1)
			rhs := make([]float32, batches*tc.n*tc.c2)
			for i := range lhs {
				lhs[i] = float32(i%7) - 3
			}
			for i := range rhs {
				rhs[i] = float32(i%5)*0.5 - 1
			}
			want := make([]float32, batches*tc.c1*tc.c2)
			for b := range batches {
				for i := range tc.c1 {
					for j := range tc.c2 {
						var sum float32
						for k := range tc.n {
							sum += lhs[(b*tc.n+k)*tc.c1+i] * rhs[(b*tc.n+k)*tc.c2+j]
						}
						want[(b*tc.c1+i)*tc.c2+j] = sum
					}
				}
			}
			batchAxes := make([]int, nb)
			for i := range batchAxes {
				batchAxes[i] = i
			}
			exec, err := NewExec(backend, func(l, r *Node) *Node {
				return DotGeneral(l, []int{nb}, batchAxes, r, []int{nb}, batchAxes)
			})
			if err != nil {
				t.Fatal(err)
			}
			defer exec.Finalize()
			out, err := exec.Exec(
				tensors.FromFlatDataAndDimensions(lhs, append(slices.Clone(tc.batch), tc.n, tc.c1)...),
				tensors.FromFlatDataAndDimensions(rhs, append(slices.Clone(tc.batch), tc.n, tc.c2)...))
			if err != nil {
				t.Fatal(err)
			}
			if dims := out[0].Shape().Dimensions; !slices.Equal(dims, append(slices.Clone(tc.batch), tc.c1, tc.c2)) {
				t.Fatalf("shape %v", dims)
			}
			got := tensors.MustCopyFlatData[float32](out[0])
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-4 {
					t.Fatalf("element %d = %v, want %v", i, got[i], want[i])
				}
			}
		})
	}
}
