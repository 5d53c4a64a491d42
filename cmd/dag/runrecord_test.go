package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dagclient "github.com/dagproject/dag/client"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"

	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/runs"
)

// connectHome connects to the server of a test's home.
func connectHome(t *testing.T, home string) *session {
	t.Helper()
	g := &globals{home: home}
	if err := g.resolve(); err != nil {
		t.Fatal(err)
	}
	sess, err := g.connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sess.close)
	return sess
}

// TestRunOutlivesTemporalHistory runs a study, deletes its run from
// Temporal (as retention does), and reads its status and report from the
// run record alone; without the record the run is gone, with a message
// that says where it looked.
func TestRunOutlivesTemporalHistory(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	file := writeEvalStudy(t)
	home := t.TempDir()
	stopServer := runServer(t, home)
	r := submitWait(t, file, home)

	ctx := context.Background()
	sess := connectHome(t, home)
	ref, err := dagclient.New(sess.client, "default").Find(ctx, r.Run)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sess.client.WorkflowService().DeleteWorkflowExecution(ctx, &workflowservice.DeleteWorkflowExecutionRequest{
		Namespace: "default", WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: ref.WorkflowID, RunId: ref.RunID},
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := sess.client.DescribeWorkflowExecution(ctx, ref.WorkflowID, ref.RunID)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run still in Temporal a minute after its deletion: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// No server from here on: an ended run's status and report need only
	// the store.
	sess.close()
	stopServer()

	code, out, errs := dag(t, "status", r.Run, "--json", "--home", home)
	var st runJSON
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status of a deleted run: exit %d %s %s", code, out, errs)
	}
	if st.Run != r.Run || st.Study != "tiny" || st.Status != "completed" || len(st.Nodes) != len(r.Nodes) {
		t.Fatalf("status from the record: %+v", st)
	}
	for i, n := range st.Nodes {
		w := r.Nodes[i]
		if n.ID != w.ID || n.Outcome != w.Outcome || *n.Key != *w.Key || n.Outputs["result"]+n.Outputs["model"]+n.Outputs["data"] != w.Outputs["result"]+w.Outputs["model"]+w.Outputs["data"] {
			t.Errorf("node %d from the record: %+v, the run said %+v", i, n, w)
		}
	}
	code, out, errs = dag(t, "report", r.Run, "--format", "json", "--home", home)
	if code != 0 || !strings.Contains(out, `"arc_challenge"`) || !strings.Contains(out, `"run": "`+r.Run+`"`) {
		t.Fatalf("report of a deleted run: exit %d %s %s", code, out, errs)
	}
	code, out, _ = dag(t, "status", r.Run, "--home", home)
	if code != 0 || !strings.Contains(out, "from its run record") {
		t.Errorf("text status of a deleted run should say where it comes from:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(home, "server.json")); !os.IsNotExist(err) {
		t.Errorf("reading an ended run started a server: %v", err)
	}

	// The record names who produced each result: this run, for all of them.
	store, err := fsstore.Open(filepath.Join(home, "store"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := runs.Get(ctx, store, "default", r.Run)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Plan == "" || rec.Workflow != ref.WorkflowID || !rec.Finished.After(rec.Started) {
		t.Errorf("record: plan %q workflow %q started %v finished %v", rec.Plan, rec.Workflow, rec.Started, rec.Finished)
	}
	for _, n := range rec.Nodes {
		if n.Producer == nil || n.Producer.Run != r.Run || n.Started.IsZero() || n.Finished.Before(n.Started) {
			t.Errorf("%s: producer %+v, %v to %v", n.ID, n.Producer, n.Started, n.Finished)
		}
	}

	// Without the record the run is gone for good (Temporal is asked, and
	// does not have it either).
	if err := store.DeleteRecord(ctx, "runs/default/"+r.Run); err != nil {
		t.Fatal(err)
	}
	runServer(t, home)
	code, _, errs = dag(t, "status", r.Run, "--home", home)
	if code == 0 || !strings.Contains(errs, "no run record in the store") {
		t.Errorf("status without history or record: exit %d %s", code, errs)
	}
	code, _, errs = dag(t, "status", "x' OR RunId != '", "--home", home)
	if code == 0 || !strings.Contains(errs, "want a run ID") {
		t.Errorf("a quote in RUN must be refused before it reaches a query: exit %d %s", code, errs)
	}
}

// runServer runs `dag server` for home in this process and returns the
// function that stops it (also called when the test ends).
func runServer(t *testing.T, home string, flags ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, append([]string{"server", "--home", home}, flags...), os.Stderr, os.Stderr) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("dag server did not stop")
		}
	}
	t.Cleanup(stop)
	g := &globals{home: home}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if _, ok := g.liveServer(ctx); ok {
			return stop
		}
	}
	t.Fatal("dag server did not come up")
	return stop
}

// TestServerRetention checks the embedded namespace's retention: 30 days
// on a new home, and --retention applied to an existing namespace at the
// next start.
func TestServerRetention(t *testing.T) {
	home := t.TempDir()
	retention := func() time.Duration {
		sess := connectHome(t, home)
		d, err := sess.client.WorkflowService().DescribeNamespace(context.Background(), &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		sess.close()
		return d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	}
	for _, tc := range []struct {
		flags []string
		env   string
		want  time.Duration
	}{
		{nil, "", 30 * 24 * time.Hour},
		{[]string{"--retention", "48h"}, "", 48 * time.Hour},
		{nil, "72h", 72 * time.Hour},
	} {
		t.Setenv("DAG_RETENTION", tc.env)
		stop := runServer(t, home, tc.flags...)
		if got := retention(); got != tc.want {
			t.Errorf("server %v, DAG_RETENTION=%q: retention %s, want %s", tc.flags, tc.env, got, tc.want)
		}
		stop()
	}
	t.Setenv("DAG_RETENTION", "")
	for _, bad := range []string{"-1h", "30m"} {
		code, _, errs := dag(t, "server", "--home", t.TempDir(), "--retention", bad)
		if code == 0 || !strings.Contains(errs, "at least 1h") {
			t.Errorf("--retention %s: exit %d %s", bad, code, errs)
		}
	}
}
