//go:build amd64 && goexperiment.simd

package tinylm

import (
	"bytes"
	"flag"
	"os"
	"simd/archsimd"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph" //nolint:revive
	"github.com/gomlx/gomlx/core/tensors"
	"k8s.io/klog/v2"
)

// TestLargeMatMulSwitchIsBound checks that useLargeMatMul is the
// backend's own switch: a go:linkname to a symbol that no longer exists
// builds anyway, as a plain variable of this package. The AVX-512 kernel
// router logs its choice at verbosity 1; a small matmul must go large.
func TestLargeMatMulSwitchIsBound(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("only the AVX-512 matmul router logs its kernel choice; this CPU has none")
	}
	backend, err := getBackend()
	if err != nil {
		t.Fatal(err)
	}
	exec, err := NewExec(backend, func(a, b *Node) *Node { return MatMul(a, b) })
	if err != nil {
		t.Fatal(err)
	}
	defer exec.Finalize()

	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	var log bytes.Buffer
	for k, v := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "stderrthreshold": "FATAL", "v": "1"} {
		was := flags.Lookup(k).Value.String()
		if err := flags.Set(k, v); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = flags.Set(k, was) }()
	}
	klog.SetOutput(&log)
	defer klog.SetOutput(os.Stderr)
	a := tensors.FromFlatDataAndDimensions(make([]float32, 8*16), 8, 16)
	b := tensors.FromFlatDataAndDimensions(make([]float32, 16*16), 16, 16)
	_, err = exec.Exec(a, b)
	klog.Flush()
	if err != nil {
		t.Fatal(err)
	}
	got := log.String()
	if !strings.Contains(got, "Using large (avx512) variant") {
		t.Errorf("an 8x16x16 matmul did not take the large kernel; backend log:\n%s", got)
	}
}
