package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
)

// clusterStudy trains on cpu (tinylm) and runs its DPO step on a gpu
// plugin (the example plugin declaring class gpu).
const clusterStudy = `version: 1
name: cluster
model:
  pretrain: {corpus: corpus, params: {steps: 1500, checkpoint_every: 50, d_model: 16, layers: 1, heads: 2, context: 48, max_length: 48}}
datasets:
  corpus: {source: corpus.txt, adapter: text}
  a: {source: a.jsonl, adapter: sft-jsonl}
  pref: {source: pref.jsonl, adapter: pref-jsonl}
recipes:
  sft: {kind: sft, params: {lora: {rank: 2, alpha: 4}, max_length: 48, batch_size: 2}}
  dpo: {kind: dpo, backend: gpuex, params: {steps: 3}}
pipelines:
  base: {steps: []}
  sft-a: {steps: [{sft: a}]}
  sft-a-dpo: {from: sft-a, steps: [{dpo: pref}]}
`

// gpuPlugins installs the example plugin as "gpuex", of class gpu, in a
// folder of its own.
func gpuPlugins(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	exe := installExamplePlugin(t, buildExamplePlugin(t), dir, "gpuex")
	if err := os.WriteFile(exe+".resource", []byte("gpu\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// process runs the dag binary until the test ends; its output goes to a
// log file that is printed when the test fails.
func process(t *testing.T, bin string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "process.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("dag %s:\n%s", strings.Join(args, " "), b)
		}
	})
	return cmd
}

// TestClusterWorkers runs a study on the embedded server acting as a
// cluster (no worker of its own), versitygw as the shared store, a cpu
// worker and a gpu worker as separate processes. The cpu worker is killed
// (SIGKILL) mid-training and a new one started: the study completes, the
// stage resumed from its last checkpoint, and every stage ran on a worker
// of its queue (as the store's producer records say).
func TestClusterWorkers(t *testing.T) {
	bin := dagBinary(t)
	cpuDir, gpuDir := tinylmPlugins(t), gpuPlugins(t)
	startS3(t)
	store := "s3://dag-cluster/team"

	addr := clusterServer(t, bin)
	worker := func(queue, identity, plugins string) *exec.Cmd {
		return process(t, bin, []string{"DAG_PLUGIN_PATH=" + plugins}, "worker", "--queues", queue,
			"--identity", identity, "--temporal", addr, "--store", store, "--home", t.TempDir())
	}
	cpu1 := worker("cpu", "cpu-1", cpuDir)
	worker("gpu", "gpu-1", gpuDir)

	// The client sees both plugins, to route each stage to its class.
	t.Setenv("DAG_PLUGIN_PATH", cpuDir+string(os.PathListSeparator)+gpuDir)
	file := writeTinyStudy(t)
	if err := os.WriteFile(file, []byte(clusterStudy), 0o644); err != nil {
		t.Fatal(err)
	}
	client := []string{"--temporal", addr, "--store", store, "--home", t.TempDir()}
	sub := submitStart(t, file, client...)
	status := func() (string, map[string]statusNode) { return runStatus(t, sub.Run, client...) }

	deadline := time.Now().Add(3 * time.Minute)
	var checkpoint int64
	for checkpoint == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint was stored")
		}
		if _, nodes := status(); nodes["pretrain/base"].Progress != nil {
			checkpoint = nodes["pretrain/base"].Progress.CheckpointStep
		}
		time.Sleep(200 * time.Millisecond)
	}
	cpu1.Process.Signal(syscall.SIGKILL)
	cpu1.Wait()
	// The killed stage left checkpoints (scratch), never a cache entry.
	rs, err := artifacts.ListResults(context.Background(), openS3(t, store))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Result.Node == "pretrain/base" {
			t.Fatal("the killed stage's partial output became a cache entry")
		}
	}
	worker("cpu", "cpu-2", cpuDir)

	var nodes map[string]statusNode
	for {
		if time.Now().After(deadline.Add(3 * time.Minute)) {
			t.Fatalf("study did not complete after the worker was replaced: %+v", nodes)
		}
		var st string
		st, nodes = status()
		if st == "completed" {
			break
		}
		if st != "running" {
			t.Fatalf("run ended %s: %+v", st, nodes)
		}
		time.Sleep(time.Second)
	}
	if pre := nodes["pretrain/base"]; pre.Outcome != "executed" || pre.Resumed < checkpoint {
		t.Fatalf("pretrain/base %s, resumed from step %d; a checkpoint at step %d was stored before the kill", pre.Outcome, pre.Resumed, checkpoint)
	}

	s := openS3(t, store)
	for id, n := range nodes {
		if n.Key == nil {
			t.Fatalf("%s has no key", id)
		}
		r, err := artifacts.GetResult(context.Background(), s, digest.Digest(*n.Key))
		if err != nil {
			t.Fatalf("%s: result: %v", id, err)
		}
		want := "cpu-"
		switch id {
		case "dpo/a+pref":
			want = "gpu-1"
		case "pretrain/base":
			want = "cpu-2"
		}
		if !strings.HasPrefix(r.Producer.Worker, want) {
			t.Errorf("%s ran on worker %q, want %s", id, r.Producer.Worker, want)
		}
		if r.Producer.Run != sub.Run {
			t.Errorf("%s: producer run %s, want %s", id, r.Producer.Run, sub.Run)
		}
	}
}

type statusNode struct {
	ID       string  `json:"id"`
	Outcome  string  `json:"outcome"`
	Key      *string `json:"key"`
	Resumed  int64   `json:"resumed_from_step"`
	Waiting  string  `json:"waiting"`
	Error    string  `json:"error"`
	Progress *struct {
		Step           int64 `json:"step"`
		CheckpointStep int64 `json:"checkpoint_step"`
	} `json:"progress"`
}

// TestWorkerDrainsOnSIGTERM: a worker sent SIGTERM in the middle of a
// stage stops taking work but finishes that stage (publishing its result)
// before it exits; a second worker runs the rest of the study.
func TestWorkerDrainsOnSIGTERM(t *testing.T) {
	bin := dagBinary(t)
	dir := t.TempDir()
	installExamplePlugin(t, buildExamplePlugin(t), dir, "example")
	t.Setenv("DAG_PLUGIN_PATH", dir)
	store := "file://" + t.TempDir()

	addr := clusterServer(t, bin)
	worker := func(identity string) *exec.Cmd {
		return process(t, bin, nil, "worker", "--queues", "cpu", "--identity", identity, "--drain-timeout", "60s",
			"--temporal", addr, "--store", store, "--home", t.TempDir())
	}
	first := worker("cpu-1")

	file := writeTinyStudy(t)
	slow := strings.Replace(tinyStudy, "name: tiny\n", "name: tiny\nbackends: {default: example}\n", 1)
	slow = strings.Replace(slow, "params: {steps: 6, d_model: 16, layers: 1, heads: 2, context: 48, max_length: 48}", "params: {steps: 40, step_delay_ms: 100}", 1)
	slow = strings.ReplaceAll(slow, "params: {lora: {rank: 2, alpha: 4}, max_length: 48, batch_size: 2}", "params: {steps: 2}")
	os.WriteFile(file, []byte(slow), 0o644)
	client := []string{"--temporal", addr, "--store", store, "--home", t.TempDir()}
	sub := submitStart(t, file, client...)
	status := func() (string, map[string]statusNode) { return runStatus(t, sub.Run, client...) }
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatal("pretrain/base never started")
		}
		if _, nodes := status(); nodes["pretrain/base"].Progress != nil && nodes["pretrain/base"].Progress.Step > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	first.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("worker exit after SIGTERM: %v", err)
		}
	case <-time.After(90 * time.Second):
		t.Fatal("worker did not exit within its drain timeout")
	}
	// With no worker left nothing answers queries; the next one does.
	worker("cpu-2")
	var st string
	var nodes map[string]statusNode
	for {
		if time.Now().After(deadline.Add(time.Minute)) {
			t.Fatalf("study did not complete on the second worker: %+v", nodes)
		}
		if st, nodes = status(); st == "completed" {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	pre := nodes["pretrain/base"]
	if pre.Outcome != "executed" || pre.Resumed != 0 || pre.Key == nil {
		t.Fatalf("pretrain/base %s, resumed from %d; the drained stage should have finished, not restarted", pre.Outcome, pre.Resumed)
	}
	r, err := artifacts.GetResult(context.Background(), openS3(t, store), digest.Digest(*pre.Key))
	if err != nil {
		t.Fatal(err)
	}
	if r.Producer.Worker != "cpu-1" {
		t.Errorf("pretrain/base was finished by %q; the draining worker cpu-1 should have finished it", r.Producer.Worker)
	}
}

// runStatus is `dag status RUN --json` with args, by node ID.
func runStatus(t *testing.T, run string, args ...string) (string, map[string]statusNode) {
	t.Helper()
	code, out, errs := dag(t, append([]string{"status", run, "--json"}, args...)...)
	var st struct {
		Status string       `json:"status"`
		Nodes  []statusNode `json:"nodes"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status exit %d: %s %s", code, out, errs)
	}
	m := map[string]statusNode{}
	for _, n := range st.Nodes {
		m[n.ID] = n
	}
	return st.Status, m
}

// clusterServer runs `dag server --worker=false` as a process of its own,
// standing in for a Temporal cluster, and returns its address.
func clusterServer(t *testing.T, bin string) string {
	t.Helper()
	home := t.TempDir()
	process(t, bin, nil, "server", "--home", home, "--worker=false")
	g := &globals{home: home}
	if err := g.resolve(); err != nil {
		t.Fatal(err)
	}
	sf, ok := g.waitForServer(context.Background(), nil, 90*time.Second)
	if !ok {
		t.Fatal("dag server did not come up")
	}
	return sf.Frontend
}
