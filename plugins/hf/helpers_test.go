package hf_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/hf"
)

// torchPython returns an interpreter that imports torch: DAG_PYTHON, then
// /usr/bin/python3 (Debian's python3-torch), then python3. Without one the
// test is skipped, except in CI (CI=true), where it fails.
func torchPython(t *testing.T) string {
	t.Helper()
	pythonOnce.Do(func() {
		for _, py := range []string{os.Getenv("DAG_PYTHON"), "/usr/bin/python3", "python3"} {
			if py != "" && exec.Command(py, "-c", "import torch").Run() == nil {
				pythonFound = py
				return
			}
		}
	})
	if pythonFound == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no python with torch (apt-get install python3-torch); CI does not skip")
		}
		t.Skip("no python with torch (apt-get install python3-torch)")
	}
	return pythonFound
}

var (
	pythonOnce  sync.Once
	pythonFound string
)

func testsDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("worker", "tests"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// toyBackend is the backend with the worker's test loader: the tiny torch
// model of worker/tests/toymodel.py stands in for transformers.
func toyBackend(t *testing.T, extra ...hf.Option) plugins.Plugin {
	t.Helper()
	py := torchPython(t)
	opts := append([]hf.Option{
		hf.WithPython(py), hf.WithCacheDir(t.TempDir()), hf.WithLog(testLog{t}),
		hf.WithEnv("DAG_HF_TEST_LOADER=toymodel:load", "PYTHONDONTWRITEBYTECODE=1"),
		hf.WithPythonPath(testsDir(t)),
	}, extra...)
	b, err := hf.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// toyBase writes a random toy base model folder.
func toyBase(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "base")
	cmd := exec.Command(torchPython(t), "-c", "import sys, toymodel; toymodel.make_base(sys.argv[1], seed=7)", dir)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+testsDir(t), "PYTHONDONTWRITEBYTECODE=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make toy base: %v\n%s", err, out)
	}
	return dir
}

func writeData(t *testing.T, lines ...string) string {
	t.Helper()
	dir := t.TempDir()
	var b []byte
	for _, l := range lines {
		b = append(b, l...)
		b = append(b, '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "data.jsonl"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("worker: %s", p)
	return len(p), nil
}

// recorder collects a Train call's events.
type recorder struct {
	mu     sync.Mutex
	events []plugins.Event
	hook   func(plugins.Event) error
}

func (r *recorder) Emit(_ context.Context, ev plugins.Event) error {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	if r.hook != nil {
		return r.hook(ev)
	}
	return nil
}

func (r *recorder) losses() []float64 {
	var out []float64
	for _, e := range r.events {
		if e.Type == plugins.EventMetrics {
			out = append(out, e.Metrics[plugins.MetricLoss])
		}
	}
	return out
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
