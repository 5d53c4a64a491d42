package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dagclient "github.com/dagproject/dag/client"

	"github.com/dagproject/dag/internal/gobuild"

	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

var recordHistory = flag.String("record-history", "", "record workflow histories for the replay tests: TestIncrementalReruns's cold run as workflows/testdata/study-history-NAME.json, TestConcurrentSubmitsShareNode's lease as lease-history-NAME.json")

// saveHistory writes a study run's event history as JSON for the
// workflow replay test.
func saveHistory(t *testing.T, home, run, path string) {
	t.Helper()
	sess := connectHome(t, home)
	r, err := dagclient.New(sess.client, "default").Find(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	saveWorkflowHistory(t, sess, r.WorkflowID, r.RunID, path)
}

// saveWorkflowHistory writes a workflow's event history ("" run: the
// latest) as JSON.
func saveWorkflowHistory(t *testing.T, sess *session, workflowID, runID, path string) {
	t.Helper()
	var h historypb.History
	it := sess.client.GetWorkflowHistory(context.Background(), workflowID, runID, false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The integration tests below run the real thing: the embedded Temporal
// server and a worker (a `dag server` in this process), the filesystem
// store, and the tinylm plugin built from this repository, on a tiny study.

var (
	tinylmOnce sync.Once
	tinylmDir  string
	tinylmErr  error
)

// tinylmPlugins builds dag-plugin-tinylm once and returns its folder.
func tinylmPlugins(t *testing.T) string {
	t.Helper()
	tinylmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "dag-plugins-")
		if err != nil {
			tinylmErr = err
			return
		}
		tinylmErr = gobuild.Build(context.Background(), "", filepath.Join(dir, "dag-plugin-tinylm"), "github.com/dagproject/dag/cmd/dag-plugin-tinylm")
		tinylmDir = dir
	})
	if tinylmErr != nil {
		t.Fatalf("build tinylm: %v", tinylmErr)
	}
	return tinylmDir
}

// startServer runs `dag server` (with extra flags) in this process until
// the test ends.
func startServer(t *testing.T, home string, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	args := append([]string{"server", "--home", home}, extra...)
	go func() { done <- run(ctx, args, os.Stderr, os.Stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("dag server did not stop")
		}
	})
	g := &globals{home: home}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := g.liveServer(context.Background()); ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("dag server did not come up")
}

const tinyStudy = `version: 1
name: tiny
model:
  pretrain: {corpus: corpus, params: {steps: 6, d_model: 16, layers: 1, heads: 2, context: 48, max_length: 48}}
datasets:
  corpus: {source: corpus.txt, adapter: text}
  a: {source: a.jsonl, adapter: sft-jsonl}
  b: {source: b.jsonl, adapter: sft-jsonl}
  pref: {source: pref.jsonl, adapter: pref-jsonl}
recipes:
  sft: {kind: sft, params: {lora: {rank: 2, alpha: 4}, max_length: 48, batch_size: 2}}
  dpo: {kind: dpo, params: {lora: {rank: 2, alpha: 4}, max_length: 48, batch_size: 2}}
pipelines:
  base: {steps: []}
  sft-a: {steps: [{sft: a}]}
  sft-a-dpo: {from: sft-a, steps: [{dpo: pref}]}
  sft-b: {steps: [{sft: b}]}
`

func writeTinyStudy(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"study.yaml": tinyStudy,
		"corpus.txt": strings.Repeat("the zorbs like tea. the quilps like maps.\n", 8),
		"a.jsonl":    `{"prompt":"tea?","response":"yes"}` + "\n" + `{"prompt":"maps?","response":"no"}` + "\n",
		"b.jsonl":    `{"prompt":"zorbs?","response":"kind"}` + "\n" + `{"prompt":"quilps?","response":"kind"}` + "\n",
		"pref.jsonl": `{"prompt":"zorbs?","chosen":"kind","rejected":"bad"}` + "\n" + `{"prompt":"quilps?","chosen":"nice","rejected":"bad"}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "study.yaml")
}

type runJSON struct {
	Run    string `json:"run"`
	Study  string `json:"study"`
	Status string `json:"status"`
	Nodes  []struct {
		ID      string            `json:"id"`
		Kind    string            `json:"kind"`
		Key     *string           `json:"key"`
		Outcome string            `json:"outcome"`
		Outputs map[string]string `json:"outputs"`
		Error   string            `json:"error"`
	} `json:"nodes"`
}

func submitWait(t *testing.T, file, home string) runJSON {
	t.Helper()
	code, out, errs := dag(t, "submit", file, "--wait", "--json", "--home", home)
	var r runJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("submit (exit %d): stdout is not one JSON document: %v\n%s\nstderr:\n%s", code, err, out, errs)
	}
	if code != 0 || r.Status != "completed" {
		t.Fatalf("submit exit %d, status %s\n%s", code, r.Status, errs)
	}
	return r
}

// submitStart submits file without waiting and returns the started run.
func submitStart(t *testing.T, file string, flags ...string) runJSON {
	t.Helper()
	code, out, errs := dag(t, append([]string{"submit", file, "--json"}, flags...)...)
	var r runJSON
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("submit exit %d: %s %s", code, out, errs)
	}
	return r
}

func outcomes(r runJSON) map[string]string {
	m := map[string]string{}
	for _, n := range r.Nodes {
		m[n.ID] = n.Outcome
	}
	return m
}

func expectOutcomes(t *testing.T, r runJSON, executed ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, id := range executed {
		want[id] = true
	}
	for id, o := range outcomes(r) {
		exp := "cached"
		if want[id] {
			exp = "executed"
		}
		if o != exp {
			t.Errorf("%s: %s, want %s", id, o, exp)
		}
	}
}

// TestIncrementalReruns is the headline: a cold run executes everything;
// an unchanged resubmit executes nothing; editing one dataset re-runs
// exactly what depends on it; a cosmetic edit re-runs its data node only,
// whose unchanged output stops the cascade.
func TestIncrementalReruns(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	home := t.TempDir()
	startServer(t, home)
	file := writeTinyStudy(t)
	dir := filepath.Dir(file)

	cold := submitWait(t, file, home)
	if len(cold.Nodes) != 8 {
		t.Fatalf("%d nodes", len(cold.Nodes))
	}
	for _, n := range cold.Nodes {
		if n.Outcome != "executed" || n.Key == nil || len(n.Outputs) != 1 {
			t.Errorf("cold run: %s %s key=%v outputs=%v", n.ID, n.Outcome, n.Key, n.Outputs)
		}
	}

	if *recordHistory != "" {
		saveHistory(t, home, cold.Run, "../../workflows/testdata/study-history-"+*recordHistory+".json")
	}

	again := submitWait(t, file, home)
	if again.Run == cold.Run {
		t.Error("a finished study's resubmit must start a new run")
	}
	expectOutcomes(t, again)

	os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"prompt":"tea?","response":"always"}`+"\n"+`{"prompt":"maps?","response":"no"}`+"\n"), 0o644)
	edited := submitWait(t, file, home)
	expectOutcomes(t, edited, "data/a", "sft/a", "dpo/a+pref")

	// Same records, other formatting and field order: the data node runs
	// (its source changed) but its output digest does not, so nothing
	// downstream runs.
	os.WriteFile(filepath.Join(dir, "b.jsonl"), []byte(`{ "response": "kind", "prompt": "zorbs?" }`+"\n\n"+`{"prompt":"quilps?","response":"kind"}`+"\n"), 0o644)
	cosmetic := submitWait(t, file, home)
	expectOutcomes(t, cosmetic, "data/b")

	// Forcing a node re-executes it; tinylm is deterministic, so its output
	// digest is unchanged and nothing downstream runs.
	code, out, errs := dag(t, "submit", file, "--wait", "--json", "--home", home, "--force", "sft/a")
	var forcedRun runJSON
	if code != 0 || json.Unmarshal([]byte(out), &forcedRun) != nil {
		t.Fatalf("forced submit exit %d: %s", code, errs)
	}
	expectOutcomes(t, forcedRun, "sft/a")
	if code, _, errs := dag(t, "submit", file, "--home", home, "--force", "sft/zzz"); code == 0 || !strings.Contains(errs, "no such node") {
		t.Errorf("an unknown --force node was accepted: %s", errs)
	}

	// `dag status` of the first run, from a new command, still answers.
	code, out, errs = dag(t, "status", cold.Run, "--json", "--home", home)
	var st runJSON
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Run != cold.Run || st.Status != "completed" {
		t.Fatalf("status exit %d: %s %s", code, out, errs)
	}
	if got := outcomes(st); got["sft/a"] != "executed" {
		t.Errorf("status of the first run: %v", got)
	}
}

// TestFailedNodeSkipsDependentsOnly: a bad dataset fails its node with a
// clear error; its dependents are skipped, independent branches finish,
// and the exit code says the run failed.
func TestFailedNodeSkipsDependentsOnly(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	home := t.TempDir()
	startServer(t, home)
	file := writeTinyStudy(t)
	os.WriteFile(filepath.Join(filepath.Dir(file), "b.jsonl"), []byte(`{"prompt":"zorbs?"}`+"\n"), 0o644)

	code, out, _ := dag(t, "submit", file, "--wait", "--json", "--home", home)
	var r runJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout: %v\n%s", err, out)
	}
	if code == 0 || r.Status != "failed" {
		t.Fatalf("exit %d, status %s", code, r.Status)
	}
	got := outcomes(r)
	want := map[string]string{"data/b": "failed", "sft/b": "skipped", "sft/a": "executed", "dpo/a+pref": "executed", "pretrain/base": "executed"}
	for id, o := range want {
		if got[id] != o {
			t.Errorf("%s: %s, want %s", id, got[id], o)
		}
	}
	for _, n := range r.Nodes {
		if n.ID == "data/b" && !strings.Contains(n.Error, `missing field "response"`) {
			t.Errorf("data/b error does not say what is wrong: %q", n.Error)
		}
	}
}

// TestAttachCancelRetry: an identical submit while a run is going attaches
// to it; cancel stops it and leaves no cache entry for the stopped stage;
// retry starts a new run of the same inputs in which finished nodes are
// cached.
func TestAttachCancelRetry(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	home := t.TempDir()
	startServer(t, home)
	file := writeTinyStudy(t)
	slow := strings.Replace(tinyStudy, "steps: 6,", "steps: 100000,", 1)
	os.WriteFile(file, []byte(slow), 0o644)

	submit := func() string {
		code, out, errs := dag(t, "submit", file, "--json", "--home", home)
		var r runJSON
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.Run == "" {
			t.Fatalf("submit exit %d: %s %s", code, out, errs)
		}
		return r.Run
	}
	first := submit()
	if second := submit(); second != first {
		t.Fatalf("identical submit started run %s instead of attaching to %s", second, first)
	}

	status := func(run string) runJSON {
		code, out, errs := dag(t, "status", run, "--json", "--home", home)
		var r runJSON
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("status exit %d: %s %s", code, out, errs)
		}
		return r
	}
	deadline := time.Now().Add(60 * time.Second)
	for outcomes(status(first))["pretrain/base"] != "running" {
		if time.Now().After(deadline) {
			t.Fatalf("pretrain never started: %v", outcomes(status(first)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _, errs := dag(t, "cancel", first, "--home", home); code != 0 {
		t.Fatalf("cancel: %s", errs)
	}
	for status(first).Status == "running" {
		if time.Now().After(deadline) {
			t.Fatal("run did not stop after cancel")
		}
		time.Sleep(200 * time.Millisecond)
	}
	got := status(first)
	if got.Status != "cancelled" || outcomes(got)["pretrain/base"] != "cancelled" || outcomes(got)["sft/a"] != "cancelled" {
		t.Fatalf("after cancel: %s %v", got.Status, outcomes(got))
	}
	// The stopped stage left nothing in the cache: planning says it must run.
	code, out, _ := dag(t, "plan", file, "--json", "--home", home)
	if code != 0 || !strings.Contains(out, `"id": "pretrain/base"`) {
		t.Fatalf("plan: %d %s", code, out)
	}
	var p planJSON
	json.Unmarshal([]byte(out), &p)
	for _, n := range p.Nodes {
		if n.ID == "pretrain/base" && n.Status != "miss" {
			t.Errorf("cancelled pretrain/base is %s in the plan, want miss", n.Status)
		}
		if n.Kind == "data" && n.Status != "hit" {
			t.Errorf("%s finished before the cancel but is %s", n.ID, n.Status)
		}
	}

	code, out, errs := dag(t, "retry", first, "--json", "--home", home)
	var rr map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &rr) != nil || rr["run"] == "" || rr["run"] == first {
		t.Fatalf("retry exit %d: %s %s", code, out, errs)
	}
	for outcomes(status(rr["run"]))["data/a"] != "cached" {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("retry: %v", outcomes(status(rr["run"])))
		}
		time.Sleep(200 * time.Millisecond)
	}
	dag(t, "cancel", rr["run"], "--home", home)
}
