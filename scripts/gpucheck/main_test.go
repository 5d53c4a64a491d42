package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is the interpreter the checks' Python tests run with; the GPU
// check's own logic needs no packages.
func python(t *testing.T) string {
	t.Helper()
	for _, py := range []string{os.Getenv("DAG_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		if p, err := exec.LookPath(py); err == nil {
			return p
		}
	}
	t.Skip("no python3")
	return ""
}

// TestPythonParts compiles every script of the GPU check and runs its unit
// tests (FLOP accounting, reports, time limits).
func TestPythonParts(t *testing.T) {
	py := python(t)
	files, _ := filepath.Glob("../gpu-check/*.py")
	if len(files) == 0 {
		t.Fatal("no ../gpu-check/*.py")
	}
	// compile() rather than py_compile, which would leave __pycache__ behind.
	compileAll := "import sys\nfor f in sys.argv[1:]:\n    compile(open(f).read(), f, 'exec')\n"
	out, err := exec.Command(py, append([]string{"-c", compileAll}, files...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, out)
	}
	cmd := exec.Command(py, "-m", "unittest", "discover", "-s", "../gpu-check")
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unittest: %v\n%s", err, out)
	}
}

func TestShellScriptsParse(t *testing.T) {
	for _, f := range []string{"../gpu-check.sh", "../gpu-bundle.sh"} {
		if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", f, err, out)
		}
	}
}

func TestAlive(t *testing.T) {
	if !alive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	if alive(1 << 30) {
		t.Error("a pid that cannot exist is alive")
	}
}

// TestDryRun runs scripts/gpu-check.sh on the CPU with the worker tests'
// toy model (GPU_CHECK_TOY=1): every stage's calls through gpucheck, the
// plugin and dag, without transformers. It builds dag, so it runs only
// with DAG_GPU_CHECK_DRY_RUN=1.
func TestDryRun(t *testing.T) {
	if os.Getenv("DAG_GPU_CHECK_DRY_RUN") != "1" {
		t.Skip("set DAG_GPU_CHECK_DRY_RUN=1 (builds dag; a few minutes)")
	}
	py := torchPython(t)
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "../../cmd/dag", "../../cmd/dag-plugin-hf", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out := t.TempDir()
	cmd := exec.Command("bash", "../gpu-check.sh", bin, out, t.TempDir())
	cmd.Env = append(os.Environ(), "DAG_PYTHON="+py, "GPU_CHECK_TOY=1", "GPU_CHECK_BUDGET=900")
	b, err := cmd.CombinedOutput()
	t.Logf("%s", b)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"stage1.json", "stage2.json", "stage3.json"} {
		var doc struct {
			Status string
			Failed int
			Checks map[string]struct{ Status string }
		}
		raw, err := os.ReadFile(filepath.Join(out, name))
		if err == nil {
			err = json.Unmarshal(raw, &doc)
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc.Status != "done" || doc.Failed != 0 {
			t.Errorf("%s: status %s, %d failed: %+v", name, doc.Status, doc.Failed, doc.Checks)
		}
	}
}

func torchPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{os.Getenv("DAG_PYTHON"), "/usr/bin/python3", "python3"} {
		if py != "" && exec.Command(py, "-c", "import torch").Run() == nil {
			return py
		}
	}
	t.Skip("no python with torch")
	return ""
}
