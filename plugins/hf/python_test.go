package hf_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestPythonUnitTests runs the worker's own tests (losses against the
// formulas of docs/metrics.md, label masking, batching, log-likelihood bookkeeping,
// the training loop on a tiny torch model) with the interpreter the other
// tests use.
func TestPythonUnitTests(t *testing.T) {
	py := torchPython(t)
	cmd := exec.Command(py, "-m", "unittest", "discover", "-s", "tests", "-t", ".")
	cmd.Dir = "worker"
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python -m unittest: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
