package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	runspkg "github.com/dagproject/dag/runs"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/s3/s3test"
	"github.com/dagproject/dag/errdefs"
)

// TestConcurrentSubmitsShareNode submits two different studies that share
// their pretraining at the same time: the shared node executes once (the
// store's producer record names the run that executed it) and the other
// run waits for it and reuses the result.
func TestConcurrentSubmitsShareNode(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	home := t.TempDir()
	startServer(t, home)

	slow := strings.Replace(tinyStudy, "steps: 6,", "steps: 400,", 1)
	one := writeTinyStudy(t)
	two := writeTinyStudy(t)
	os.WriteFile(one, []byte(strings.Replace(slow, "name: tiny", "name: one", 1)), 0o644)
	os.WriteFile(two, []byte(strings.Replace(slow, "name: tiny", "name: two", 1)), 0o644)

	var wg sync.WaitGroup
	runs := make([]runJSON, 2)
	for i, file := range []string{one, two} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, out, errs := dag(t, "submit", file, "--wait", "--json", "--home", home)
			if err := json.Unmarshal([]byte(out), &runs[i]); err != nil || code != 0 {
				t.Errorf("submit %s: exit %d %v\n%s", file, code, err, errs)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var executed, reused []string
	var key string
	waiting := ""
	for _, r := range runs {
		for _, n := range r.Nodes {
			if n.ID != "pretrain/base" {
				continue
			}
			key = *n.Key
			switch n.Outcome {
			case "executed":
				executed = append(executed, r.Run)
			case "cached":
				reused = append(reused, r.Run)
			}
		}
	}
	if len(executed) != 1 || len(reused) != 1 {
		t.Fatalf("pretrain/base executed by %v and cached in %v; want exactly one of each", executed, reused)
	}
	if *recordHistory != "" {
		saveWorkflowHistory(t, connectHome(t, home), runspkg.LeaseID(digest.Digest(key)), "",
			"../../workflows/testdata/lease-history-"+*recordHistory+".json")
	}
	// The waiting run says whom it waited on.
	code, out, _ := dag(t, "status", reused[0], "--json", "--home", home)
	var st struct {
		Nodes []statusNode `json:"nodes"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status: %d %s", code, out)
	}
	for _, n := range st.Nodes {
		if n.ID == "pretrain/base" {
			waiting = n.Waiting
		}
	}
	if !strings.Contains(waiting, executed[0]) {
		t.Errorf("the reusing run's pretrain/base says %q; want it to name run %s", waiting, executed[0])
	}
	s := openHomeStore(t, home)
	r, err := artifacts.GetResult(context.Background(), s, digest.Digest(key))
	if err != nil {
		t.Fatal(err)
	}
	if r.Producer.Run != executed[0] {
		t.Errorf("producer record names run %s; %s executed the node", r.Producer.Run, executed[0])
	}
}

// openHomeStore opens the default store of a home.
func openHomeStore(t *testing.T, home string) artifacts.Store {
	t.Helper()
	return openStoreAt(t, home, "")
}

// TestCacheNever: a recipe with cache: never executes on every run and
// leaves no result; what depends on it stays cached while its output is
// unchanged.
func TestCacheNever(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	home := t.TempDir()
	startServer(t, home)
	file := writeTinyStudy(t)
	never := strings.Replace(tinyStudy, "  sft: {kind: sft, params:", "  sft: {kind: sft, cache: never, params:", 1)
	os.WriteFile(file, []byte(never), 0o644)

	first := submitWait(t, file, home)
	second := submitWait(t, file, home)
	expectOutcomes(t, second, "sft/a", "sft/b")
	s := openHomeStore(t, home)
	for _, n := range first.Nodes {
		if !strings.HasPrefix(n.ID, "sft/") {
			continue
		}
		if _, err := artifacts.GetResult(context.Background(), s, digest.Digest(*n.Key)); !errdefs.IsNotFound(err) {
			t.Errorf("%s: a cache: never node left a result (%v)", n.ID, err)
		}
	}
	code, out, _ := dag(t, "plan", file, "--json", "--home", home)
	if code != 0 || !strings.Contains(out, "cache: never") {
		t.Errorf("plan does not say why sft nodes run: exit %d\n%s", code, out)
	}
}

// TestSubmitFaults: each bad input or unreachable dependency gives one
// clear line, a non-zero exit, no server started and no cache entry.
func TestSubmitFaults(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	file := writeTinyStudy(t)
	noTrace := func(t *testing.T, home string) {
		t.Helper()
		if _, err := os.Stat(filepath.Join(home, "server.json")); err == nil {
			t.Error("a dag server was started")
		}
		if rs, err := artifacts.ListResults(context.Background(), openHomeStore(t, home)); err != nil || len(rs) > 0 {
			t.Errorf("cache entries were written: %d (%v)", len(rs), err)
		}
	}
	oneLine := func(t *testing.T, code int, errs string, want ...string) {
		t.Helper()
		if code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Fatalf("exit %d, stderr %q: want non-zero and one line", code, errs)
		}
		for _, w := range want {
			if !strings.Contains(errs, w) {
				t.Errorf("stderr %q does not name %q", errs, w)
			}
		}
	}

	t.Run("malformed study", func(t *testing.T) {
		home := t.TempDir()
		bad := filepath.Join(filepath.Dir(file), "bad.yaml")
		os.WriteFile(bad, []byte(strings.Replace(tinyStudy, "kind: dpo,", "kind: dpo, cahce: never,", 1)), 0o644)
		code, _, errs := dag(t, "submit", bad, "--wait", "--home", home)
		oneLine(t, code, errs, "bad.yaml:12:", "cahce")
		noTrace(t, home)
	})
	t.Run("unreachable temporal", func(t *testing.T) {
		home := t.TempDir()
		code, _, errs := dag(t, "submit", file, "--home", home, "--temporal", "127.0.0.1:1")
		oneLine(t, code, errs, "127.0.0.1:1")
		noTrace(t, home)
	})
	t.Run("wrong s3 credentials", func(t *testing.T) {
		srv := startS3(t)
		home := t.TempDir()
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
		code, _, errs := dag(t, "submit", file, "--home", home, "--store", "s3://dag-faults/x")
		oneLine(t, code, errs, "dag-faults")
		if _, err := os.Stat(filepath.Join(home, "server.json")); err == nil {
			t.Error("a dag server was started")
		}
		t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
		if rs, err := artifacts.ListResults(context.Background(), openS3(t, "s3://dag-faults/x")); err != nil || len(rs) > 0 {
			t.Errorf("cache entries: %d (%v)", len(rs), err)
		}
	})
}

// TestPluginProblemsOnWorker: a stage whose plugin is missing on the
// worker, or not ready there, fails with the reason; nothing downstream
// runs and no entry is written for it.
func TestPluginProblemsOnWorker(t *testing.T) {
	dir := t.TempDir()
	sick := installExamplePlugin(t, buildExamplePlugin(t), dir, "sick")
	os.WriteFile(sick+".problem", []byte("python package torch is not installed\n"), 0o644)
	t.Setenv("DAG_PLUGIN_PATH", dir)
	home := t.TempDir()
	startServer(t, home)
	for backend, want := range map[string]string{
		"sick":   "plugin sick is not ready: python package torch",
		"absent": "plugin absent is not installed",
	} {
		file := writeTinyStudy(t)
		os.WriteFile(file, []byte(strings.Replace(tinyStudy, "name: tiny\n", "name: tiny\nbackends: {default: "+backend+"}\n", 1)), 0o644)
		code, out, _ := dag(t, "submit", file, "--wait", "--json", "--home", home)
		var r runJSON
		if err := json.Unmarshal([]byte(out), &r); err != nil || code == 0 || r.Status != "failed" {
			t.Fatalf("%s: exit %d status %s (%v)", backend, code, r.Status, err)
		}
		for _, n := range r.Nodes {
			switch {
			case n.ID == "pretrain/base":
				if n.Outcome != "failed" || !strings.Contains(n.Error, want) {
					t.Errorf("%s: pretrain/base %s %q, want failed with %q", backend, n.Outcome, n.Error, want)
				}
			case strings.HasPrefix(n.ID, "data/"):
			case n.Outcome != "skipped":
				t.Errorf("%s: %s %s, want skipped", backend, n.ID, n.Outcome)
			}
		}
	}
	rs, err := artifacts.ListResults(context.Background(), openHomeStore(t, home))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if !strings.HasPrefix(r.Result.Node, "data/") {
			t.Errorf("entry for %s written", r.Result.Node)
		}
	}
}

// startS3 starts versitygw for one test and points the S3 settings at it.
func startS3(t *testing.T) *s3test.Server {
	t.Helper()
	srv := s3test.Start(t)
	t.Setenv("DAG_S3_ENDPOINT", srv.Addr)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("DAG_S3_INSECURE", "1")
	return srv
}

func openS3(t *testing.T, uri string) artifacts.Store {
	t.Helper()
	return openStoreAt(t, t.TempDir(), uri)
}

// openStoreAt opens the store a dag command with this home and --store
// ("" for the default) would use.
func openStoreAt(t *testing.T, home, uri string) artifacts.Store {
	t.Helper()
	g := &globals{home: home, store: uri}
	if err := g.resolve(); err != nil {
		t.Fatal(err)
	}
	s, err := g.openStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStageOnWrongQueueFails: a stage of a gpu plugin that reaches a
// worker serving only cpu (the client could not see the plugin, so it
// routed the stage to cpu) fails with the reason instead of running there.
func TestStageOnWrongQueueFails(t *testing.T) {
	gpuDir := gpuPlugins(t)
	t.Setenv("DAG_PLUGIN_PATH", gpuDir)
	home := t.TempDir()
	startServer(t, home, "--queues", "cpu")
	t.Setenv("DAG_PLUGIN_PATH", t.TempDir()) // the client sees no plugins
	file := writeTinyStudy(t)
	study := strings.Replace(tinyStudy, "name: tiny\n", "name: tiny\nbackends: {default: gpuex}\n", 1)
	study = strings.Replace(study, "params: {steps: 6, d_model: 16, layers: 1, heads: 2, context: 48, max_length: 48}", "params: {steps: 2}", 1)
	os.WriteFile(file, []byte(study), 0o644)
	code, out, errs := dag(t, "submit", file, "--wait", "--json", "--home", home)
	if !strings.Contains(errs, "plugin gpuex is not installed here") {
		t.Errorf("submit did not warn about the routing: %q", errs)
	}
	var r runJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil || code == 0 {
		t.Fatalf("exit %d (%v)", code, err)
	}
	got := outcomes(r)["pretrain/base"]
	for _, n := range r.Nodes {
		if n.ID == "pretrain/base" && (n.Outcome != "failed" || !strings.Contains(n.Error, "needs a gpu worker; worker server@")) {
			t.Errorf("pretrain/base %s %q, want failed: needs a gpu worker", n.Outcome, n.Error)
		}
	}
	if got == "" {
		t.Error("no pretrain/base in the run")
	}
}
