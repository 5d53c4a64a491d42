package main_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
)

// bin is dag-plugin-hf, built by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "dag-plugin-hf-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "dag-plugin-hf")
		cmd := exec.Command("go", "build", "-o", bin, ".")
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build:", err)
			return 1
		}
		code := m.Run()
		host.Cleanup()
		return code
	}())
}

func torchPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{os.Getenv("DAG_PYTHON"), "/usr/bin/python3", "python3"} {
		if py != "" && exec.Command(py, "-c", "import torch").Run() == nil {
			return py
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no python with torch (apt-get install python3-torch); CI does not skip")
	}
	t.Skip("no python with torch")
	return ""
}

func launch(t *testing.T) host.Client {
	t.Helper()
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	d, err := digest.SHA256.FromReader(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c, err := host.Launch(t.Context(), bin, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDiscoverWithoutPython(t *testing.T) {
	t.Setenv("DAG_PYTHON", filepath.Join(t.TempDir(), "no-python"))
	t.Setenv("DAG_HF_CACHE", t.TempDir())
	infos, err := host.Discover(t.Context(), []string{filepath.Dir(bin)})
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name != "hf" || infos[0].Ready || !strings.Contains(infos[0].Problem, "DAG_PYTHON") {
		t.Fatalf("discovered %+v", infos)
	}
	if infos[0].Resource != plugins.ResourceGPU {
		t.Errorf("resource %q", infos[0].Resource)
	}
}

// TestCancelLeavesNoWorker cancels a long stage through the host, which
// kills the plugin; the worker must die with it.
func TestCancelLeavesNoWorker(t *testing.T) {
	py := torchPython(t)
	tests, _ := filepath.Abs("../../plugins/hf/worker/tests")
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("DAG_PYTHON", py)
	t.Setenv("DAG_HF_CACHE", t.TempDir())
	t.Setenv("DAG_HF_TEST_LOADER", "toymodel:load")
	t.Setenv("DAG_HF_TEST_PIDFILE", pidFile)
	t.Setenv("PYTHONPATH", tests)
	t.Setenv("PYTHONDONTWRITEBYTECODE", "1")

	base := filepath.Join(t.TempDir(), "base")
	mk := exec.Command(py, "-c", "import sys, toymodel; toymodel.make_base(sys.argv[1])", base)
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "data.jsonl"), []byte(`{"prompt": "a", "response": "b"}`+"\n"), 0o644)

	c := launch(t)
	d, err := c.Describe(t.Context())
	if err != nil || !d.Ready {
		t.Fatalf("describe: %v %+v", err, d)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	steps := 0
	var cancelled time.Time
	_, err = c.Train(ctx, plugins.TrainRequest{
		Kind:      plugins.KindSFT,
		Inputs:    map[string]string{plugins.InputModel: base, plugins.InputData: data},
		Params:    []byte(`{"steps": 100000, "batch_size": 1, "max_length": 32}`),
		OutputDir: t.TempDir(),
	}, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		if e.Type == plugins.EventProgress {
			if steps++; steps == 3 {
				cancelled = time.Now()
				cancel()
			}
		}
		return nil
	}))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	t.Logf("train returned %v after cancel", time.Since(cancelled))
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(string(b))
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("worker %d outlived its plugin", pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("worker gone %v after cancel", time.Since(cancelled))
}
