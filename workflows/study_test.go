package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/dagproject/dag/activities"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// TestReplay replays a recorded run of each released version of the
// workflow: a change that breaks determinism for runs in flight fails
// here. v1 predates workflow versions, queues-leases routes stages to
// class queues, run-record (the current one) stores a run record at the
// end. After every workflow change, record a history of the new version
// with go test ./cmd/dag -run TestIncrementalReruns -record-history NAME
// and add NAME here.
func TestReplay(t *testing.T) {
	for _, name := range []string{"v1", "queues-leases", "run-record"} {
		t.Run(name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Study, workflow.RegisterOptions{Name: runs.StudyWorkflow})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/study-history-"+name+".json"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestReplayLease replays a recorded lease: claimed by one run, waited
// on by another, released by its holder once the key was published.
func TestReplayLease(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(Lease, workflow.RegisterOptions{Name: runs.LeaseWorkflow})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/lease-history-released.json"); err != nil {
		t.Fatal(err)
	}
}

// TestLeaseContinuesAsNew: a lease whose holder neither releases it nor
// ends continues as new after leaseChecks checks, with the same request,
// so its history stays small however long the node runs. (A real history
// of it would take leaseChecks minutes to record; this runs on the test
// environment's skipped time.)
func TestLeaseContinuesAsNew(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Lease, workflow.RegisterOptions{Name: runs.LeaseWorkflow})
	var a *activities.Activities
	env.RegisterActivity(a)
	checks := 0
	env.OnActivity(a.LeaseOver, mock.Anything, mock.Anything).Return(func(context.Context, runs.LeaseRequest) (bool, error) {
		checks++
		return false, nil
	})
	req := runs.LeaseRequest{Key: digest.FromString("k"), Holder: runs.Holder{Run: "r1", Study: "s", Node: "n"}}
	env.ExecuteWorkflow(runs.LeaseWorkflow, req)
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("after %d checks: %v, want continue-as-new", checks, err)
	}
	if checks != leaseChecks || can.WorkflowType.Name != runs.LeaseWorkflow {
		t.Errorf("%d checks, continued as %s; want %d, %s", checks, can.WorkflowType.Name, leaseChecks, runs.LeaseWorkflow)
	}
}

// TestLeaseEndsOnRelease: the holder's release signal ends the lease;
// another run's does not.
func TestLeaseEndsOnRelease(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Lease, workflow.RegisterOptions{Name: runs.LeaseWorkflow})
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.LeaseOver, mock.Anything, mock.Anything).Return(false, nil)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(runs.SignalRelease, "someone-else") }, 30*time.Second)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(runs.SignalRelease, "r1") }, 3*time.Minute)
	start := env.Now()
	env.ExecuteWorkflow(runs.LeaseWorkflow, runs.LeaseRequest{Key: digest.FromString("k"), Holder: runs.Holder{Run: "r1"}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if d := env.Now().Sub(start); d < 3*time.Minute || d > 4*time.Minute {
		t.Errorf("the lease ended after %s; want at the holder's release (3m)", d)
	}
}

// graph: a -> b -> c, and an independent d.
func testGraph() runs.Graph {
	in := func(node string) []study.Input { return []study.Input{{Name: "data", Node: node, Output: "data"}} }
	return runs.Graph{Study: "t", Nodes: []runs.GraphNode{
		{ID: "a", Kind: study.KindPretrain, Deps: []string{}},
		{ID: "b", Kind: study.KindSFT, Inputs: in("a"), Deps: []string{"a"}},
		{ID: "c", Kind: study.KindDPO, Inputs: in("b"), Deps: []string{"b"}},
		{ID: "d", Kind: study.KindPretrain, Deps: []string{}},
	}}
}

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	return newRecordingEnv(t, new(runs.Record))
}

// newRecordingEnv is newEnv, keeping the run record the workflow writes
// in *rec.
func newRecordingEnv(t *testing.T, rec *runs.Record) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Study, workflow.RegisterOptions{Name: runs.StudyWorkflow})
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.LoadGraph, mock.Anything, mock.Anything).Return(testGraph(), nil)
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r runs.Record) error {
			*rec = r
			return nil
		})
	return env
}

// TestRunRecordWhenThePlanDoesNotLoad checks that a run that fails before
// its first node still leaves a record saying why.
func TestRunRecordWhenThePlanDoesNotLoad(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Study, workflow.RegisterOptions{Name: runs.StudyWorkflow})
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.LoadGraph, mock.Anything, mock.Anything).Return(runs.Graph{},
		temporal.NewNonRetryableApplicationError("plan sha256:0 is not in the store", "NotFound", nil))
	var rec runs.Record
	env.OnActivity(a.RecordRun, mock.Anything, mock.Anything).Return(func(_ context.Context, r runs.Record) error {
		rec = r
		return nil
	})
	env.ExecuteWorkflow(runs.StudyWorkflow, runs.StudyInput{Study: "t", Namespace: "ns", Plan: digest.FromString("plan")})
	if env.GetWorkflowError() == nil {
		t.Fatal("a run whose plan does not load must fail")
	}
	if rec.Status != runs.StatusFailed || !strings.Contains(rec.Error, "is not in the store") || rec.Study != "t" {
		t.Errorf("record: %+v", rec)
	}
}

// TestRunRecordOfEachEnding checks that a run stores its record as its
// last step, completed, failed or cancelled, with every node's final
// state.
func TestRunRecordOfEachEnding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fail    string // node whose run fails
		cancel  bool
		want    runs.Status
		outcome map[string]runs.Outcome
	}{
		{"completed", "", false, runs.StatusCompleted, map[string]runs.Outcome{"a": runs.Executed, "c": runs.Executed, "d": runs.Executed}},
		{"failed", "b", false, runs.StatusFailed, map[string]runs.Outcome{"a": runs.Executed, "b": runs.Failed, "c": runs.Skipped}},
		{"cancelled", "", true, runs.StatusCancelled, map[string]runs.Outcome{"b": runs.Cancelled, "c": runs.Cancelled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec runs.Record
			env := newRecordingEnv(t, &rec)
			var a *activities.Activities
			env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(runs.LookupResult{}, nil)
			env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
				func(ctx context.Context, in runs.RunInput) (runs.RunResult, error) {
					if in.Node == tc.fail {
						return runs.RunResult{}, temporal.NewNonRetryableApplicationError("broken", "InvalidArgument", nil)
					}
					if tc.cancel && in.Node == "b" {
						<-ctx.Done()
						return runs.RunResult{}, ctx.Err()
					}
					return runs.RunResult{Key: digest.FromString(in.Node), Outputs: map[string]digest.Digest{"data": digest.FromString(in.Node)}}, nil
				})
			if tc.cancel {
				env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)
			}
			env.ExecuteWorkflow(runs.StudyWorkflow, runs.StudyInput{Study: "t", Namespace: "ns", Plan: digest.FromString("plan")})
			if (env.GetWorkflowError() == nil) != (tc.want == runs.StatusCompleted) {
				t.Fatalf("workflow error %v for a %s run", env.GetWorkflowError(), tc.want)
			}
			if rec.Status != tc.want || rec.Study != "t" || rec.Namespace != "ns" || rec.Plan != digest.FromString("plan") || rec.Run == "" || len(rec.Nodes) != 4 {
				t.Fatalf("record: %+v", rec)
			}
			for _, n := range rec.Nodes {
				if want, ok := tc.outcome[n.ID]; ok && n.Outcome != want {
					t.Errorf("%s: recorded %s, want %s", n.ID, n.Outcome, want)
				}
				if n.Outcome == runs.Executed && (n.Key != digest.FromString(n.ID) || n.Finished.IsZero()) {
					t.Errorf("%s: recorded %+v", n.ID, n.NodeState)
				}
			}
		})
	}
}

func outcomesOf(t *testing.T, env *testsuite.TestWorkflowEnvironment) map[string]runs.NodeState {
	t.Helper()
	v, err := env.QueryWorkflow(runs.QueryState)
	if err != nil {
		t.Fatal(err)
	}
	var st runs.State
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	m := map[string]runs.NodeState{}
	for _, n := range st.Nodes {
		m[n.ID] = n
	}
	return m
}

func TestRunsInDependencyOrderAndPassesOutputs(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.LookupInput) (runs.LookupResult, error) {
			return runs.LookupResult{Key: digest.FromString("key " + in.Node), Hit: in.Node == "d",
				Outputs: map[string]digest.Digest{"data": digest.FromString("out d")}}, nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.RunInput) (runs.RunResult, error) {
			// Every input must be the output of a finished upstream node.
			for name, d := range in.Inputs {
				if d == "" {
					return runs.RunResult{}, errors.New("input " + name + " has no digest")
				}
			}
			return runs.RunResult{Key: digest.FromString("key " + in.Node),
				Outputs: map[string]digest.Digest{"data": digest.FromString("out " + in.Node)}}, nil
		})
	env.ExecuteWorkflow(runs.StudyWorkflow, runs.StudyInput{Study: "t", Plan: digest.FromString("plan")})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	got := outcomesOf(t, env)
	for id, want := range map[string]runs.Outcome{"a": runs.Executed, "b": runs.Executed, "c": runs.Executed, "d": runs.Cached} {
		if got[id].Outcome != want {
			t.Errorf("%s: %s, want %s", id, got[id].Outcome, want)
		}
	}
	if got["c"].Outputs["data"] != digest.FromString("out c") {
		t.Errorf("c outputs: %v", got["c"].Outputs)
	}
}

func TestFailureSkipsDependentsAndKeepsOthersGoing(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.LookupInput) (runs.LookupResult, error) {
			return runs.LookupResult{Key: digest.FromString(in.Node), Lease: &runs.Lease{Granted: true, Holder: *in.Claim}}, nil
		})
	released := map[string]int{}
	env.OnActivity(a.Release, mock.Anything, mock.Anything).Return(
		func(_ context.Context, l runs.Lease) error {
			released[l.Holder.Node]++
			return nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.RunInput) (runs.RunResult, error) {
			if in.Lease == nil || !in.Lease.Granted {
				return runs.RunResult{}, errors.New(in.Node + " runs without its lease")
			}
			if in.Node == "b" {
				return runs.RunResult{}, temporal.NewNonRetryableApplicationError("bad records in b", "InvalidArgument", nil)
			}
			return runs.RunResult{Key: digest.FromString(in.Node), Outputs: map[string]digest.Digest{"data": digest.FromString(in.Node)}}, nil
		})
	env.ExecuteWorkflow(runs.StudyWorkflow, runs.StudyInput{Study: "t", Plan: digest.FromString("plan")})
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("a run with a failed node must fail")
	}
	got := outcomesOf(t, env)
	for id, want := range map[string]runs.Outcome{"a": runs.Executed, "b": runs.Failed, "c": runs.Skipped, "d": runs.Executed} {
		if got[id].Outcome != want {
			t.Errorf("%s: %s, want %s", id, got[id].Outcome, want)
		}
	}
	if got["b"].Error != "bad records in b" {
		t.Errorf("b error: %q", got["b"].Error)
	}
	// Only the failed node's lease is released by the workflow (a Run
	// that succeeds releases its own).
	if released["b"] != 1 || len(released) != 1 {
		t.Errorf("released %v, want b once", released)
	}
}

func TestParallelismBound(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	inFlight, peak := 0, 0
	looked := map[string]bool{}
	env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.LookupInput) (runs.LookupResult, error) {
			if looked[in.Node] { // the look-up again once the lease is granted
				return runs.LookupResult{Key: digest.FromString(in.Node)}, nil
			}
			looked[in.Node] = true
			inFlight++
			if inFlight > peak {
				peak = inFlight
			}
			return runs.LookupResult{Key: digest.FromString(in.Node)}, nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.RunInput) (runs.RunResult, error) {
			inFlight--
			return runs.RunResult{Key: digest.FromString(in.Node), Outputs: map[string]digest.Digest{"data": digest.FromString(in.Node)}}, nil
		})
	env.ExecuteWorkflow(runs.StudyWorkflow, runs.StudyInput{Study: "t", Plan: digest.FromString("plan"), Parallelism: 1})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if peak != 1 {
		t.Fatalf("parallelism 1, but %d nodes were in flight", peak)
	}
}

// TestWaitsOnLeaseHolder: a node whose key another run is executing waits
// for it and reuses its result; the wait shows in the node's state.
func TestWaitsOnLeaseHolder(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	other := runs.Holder{Workflow: "dag-other", Run: "run-other", Study: "other", Node: "b"}
	finished := false
	env.OnActivity(a.AwaitLease, mock.Anything, mock.Anything).Return(
		func(_ context.Context, l runs.Lease) error {
			finished = true // the other run published b
			return nil
		})
	ran := map[string]int{}
	env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.LookupInput) (runs.LookupResult, error) {
			key := digest.FromString(in.Node)
			switch {
			case in.Node == "b" && finished:
				return runs.LookupResult{Key: key, Hit: true, Outputs: map[string]digest.Digest{"data": digest.FromString("out b")}}, nil
			case in.Node == "b":
				return runs.LookupResult{Key: key, Lease: &runs.Lease{ID: "lease-b", Holder: other}}, nil
			}
			return runs.LookupResult{Key: key, Lease: &runs.Lease{Granted: true, Holder: *in.Claim}}, nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.RunInput) (runs.RunResult, error) {
			ran[in.Node]++
			return runs.RunResult{Key: digest.FromString(in.Node), Outputs: map[string]digest.Digest{"data": digest.FromString("out " + in.Node)}}, nil
		})
	env.ExecuteWorkflow(runs.StudyWorkflow, runs.StudyInput{Study: "t", Plan: digest.FromString("plan")})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	got := outcomesOf(t, env)
	if got["b"].Outcome != runs.Cached || ran["b"] != 0 {
		t.Fatalf("b: %s after %d runs, want cached from the other run", got["b"].Outcome, ran["b"])
	}
	if !strings.Contains(got["b"].Waiting, "run-other") {
		t.Errorf("b waiting: %q, want the other run named", got["b"].Waiting)
	}
	if got["c"].Outcome != runs.Executed || got["c"].Waiting != "" {
		t.Errorf("c: %+v", got["c"])
	}
}

// TestLeaseHolderFailedClaimsAgain: when the run a node waited on failed
// (the key is still missing), the node claims the lease and executes.
func TestLeaseHolderFailedClaimsAgain(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	claims := 0
	env.OnActivity(a.AwaitLease, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.LookupInput) (runs.LookupResult, error) {
			key := digest.FromString(in.Node)
			if in.Node == "a" {
				claims++
				if claims == 1 {
					return runs.LookupResult{Key: key, Lease: &runs.Lease{ID: "lease-a", Holder: runs.Holder{Run: "run-other"}}}, nil
				}
			}
			return runs.LookupResult{Key: key, Lease: &runs.Lease{Granted: true, Holder: *in.Claim}}, nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in runs.RunInput) (runs.RunResult, error) {
			if in.Lease == nil || !in.Lease.Granted {
				return runs.RunResult{}, errors.New(in.Node + ": run without a granted lease")
			}
			return runs.RunResult{Key: digest.FromString(in.Node), Outputs: map[string]digest.Digest{"data": digest.FromString("out " + in.Node)}}, nil
		})
	env.ExecuteWorkflow(runs.StudyWorkflow, runs.StudyInput{Study: "t", Plan: digest.FromString("plan")})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := outcomesOf(t, env); got["a"].Outcome != runs.Executed || claims != 2 {
		t.Fatalf("a: %s after %d claims, want executed after claiming twice", got["a"].Outcome, claims)
	}
}

// TestDataNodesRunInOneActivity: nodes without a lease (built-in data and
// report) are looked up by Run itself: a hit comes back cached without a
// separate Lookup, and --force turns the look-up off.
func TestDataNodesRunInOneActivity(t *testing.T) {
	for _, force := range []bool{false, true} {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.RegisterWorkflowWithOptions(Study, workflow.RegisterOptions{Name: runs.StudyWorkflow})
		var a *activities.Activities
		env.RegisterActivity(a)
		env.OnActivity(a.LoadGraph, mock.Anything, mock.Anything).Return(runs.Graph{Study: "t", Nodes: []runs.GraphNode{
			{ID: "data/x", Kind: study.KindData, Deps: []string{}},
		}}, nil)
		env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in runs.RunInput) (runs.RunResult, error) {
				if in.LookupFirst == force {
					return runs.RunResult{}, errors.New("LookupFirst must be the opposite of force")
				}
				return runs.RunResult{Key: digest.FromString("k"), Outputs: map[string]digest.Digest{"data": digest.FromString("o")}, Cached: in.LookupFirst}, nil
			})
		in := runs.StudyInput{Study: "t", Plan: digest.FromString("plan")}
		if force {
			in.Force = []string{"data/x"}
		}
		env.ExecuteWorkflow(runs.StudyWorkflow, in)
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		want := runs.Cached
		if force {
			want = runs.Executed
		}
		if got := outcomesOf(t, env)["data/x"].Outcome; got != want {
			t.Errorf("force=%v: %s, want %s", force, got, want)
		}
	}
}
