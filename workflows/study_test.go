package workflows

import (
	"context"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/dagproject/dag/activities"
	"github.com/dagproject/dag/study"
)

// TestReplayV1 replays a recorded run of the released workflow: a change
// that breaks determinism for runs in flight fails here.
func TestReplayV1(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(Study, workflow.RegisterOptions{Name: StudyWorkflow})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/study-history-v1.json"); err != nil {
		t.Fatal(err)
	}
}

// graph: a -> b -> c, and an independent d.
func testGraph() activities.Graph {
	in := func(node string) []study.Input { return []study.Input{{Name: "data", Node: node, Output: "data"}} }
	return activities.Graph{Study: "t", Nodes: []activities.GraphNode{
		{ID: "a", Kind: study.KindData, Deps: []string{}},
		{ID: "b", Kind: study.KindSFT, Inputs: in("a"), Deps: []string{"a"}},
		{ID: "c", Kind: study.KindDPO, Inputs: in("b"), Deps: []string{"b"}},
		{ID: "d", Kind: study.KindData, Deps: []string{}},
	}}
}

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Study, workflow.RegisterOptions{Name: StudyWorkflow})
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.LoadGraph, mock.Anything, mock.Anything).Return(testGraph(), nil)
	return env
}

func outcomesOf(t *testing.T, env *testsuite.TestWorkflowEnvironment) map[string]NodeState {
	t.Helper()
	v, err := env.QueryWorkflow(QueryState)
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	m := map[string]NodeState{}
	for _, n := range st.Nodes {
		m[n.ID] = n
	}
	return m
}

func TestRunsInDependencyOrderAndPassesOutputs(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NodeInput) (activities.LookupResult, error) {
			return activities.LookupResult{Key: digest.FromString("key " + in.Node), Hit: in.Node == "d",
				Outputs: map[string]digest.Digest{"data": digest.FromString("out d")}}, nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NodeInput) (activities.RunResult, error) {
			// Every input must be the output of a finished upstream node.
			for name, d := range in.Inputs {
				if d == "" {
					return activities.RunResult{}, errors.New("input " + name + " has no digest")
				}
			}
			return activities.RunResult{Key: digest.FromString("key " + in.Node),
				Outputs: map[string]digest.Digest{"data": digest.FromString("out " + in.Node)}}, nil
		})
	env.ExecuteWorkflow(StudyWorkflow, StudyInput{Study: "t", Plan: digest.FromString("plan")})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	got := outcomesOf(t, env)
	for id, want := range map[string]Outcome{"a": Executed, "b": Executed, "c": Executed, "d": Cached} {
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
		func(_ context.Context, in activities.NodeInput) (activities.LookupResult, error) {
			return activities.LookupResult{Key: digest.FromString(in.Node)}, nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NodeInput) (activities.RunResult, error) {
			if in.Node == "b" {
				return activities.RunResult{}, temporal.NewNonRetryableApplicationError("bad records in b", "InvalidArgument", nil)
			}
			return activities.RunResult{Key: digest.FromString(in.Node), Outputs: map[string]digest.Digest{"data": digest.FromString(in.Node)}}, nil
		})
	env.ExecuteWorkflow(StudyWorkflow, StudyInput{Study: "t", Plan: digest.FromString("plan")})
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("a run with a failed node must fail")
	}
	got := outcomesOf(t, env)
	for id, want := range map[string]Outcome{"a": Executed, "b": Failed, "c": Skipped, "d": Executed} {
		if got[id].Outcome != want {
			t.Errorf("%s: %s, want %s", id, got[id].Outcome, want)
		}
	}
	if got["b"].Error != "bad records in b" {
		t.Errorf("b error: %q", got["b"].Error)
	}
}

func TestParallelismBound(t *testing.T) {
	env := newEnv(t)
	var a *activities.Activities
	inFlight, peak := 0, 0
	env.OnActivity(a.Lookup, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NodeInput) (activities.LookupResult, error) {
			inFlight++
			if inFlight > peak {
				peak = inFlight
			}
			return activities.LookupResult{Key: digest.FromString(in.Node)}, nil
		})
	env.OnActivity(a.Run, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NodeInput) (activities.RunResult, error) {
			inFlight--
			return activities.RunResult{Key: digest.FromString(in.Node), Outputs: map[string]digest.Digest{"data": digest.FromString(in.Node)}}, nil
		})
	env.ExecuteWorkflow(StudyWorkflow, StudyInput{Study: "t", Plan: digest.FromString("plan"), Parallelism: 1})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if peak != 1 {
		t.Fatalf("parallelism 1, but %d nodes were in flight", peak)
	}
}
