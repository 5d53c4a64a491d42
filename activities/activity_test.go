package activities_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/dagproject/dag/activities"
	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/internal/gobuild"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

var (
	exampleOnce sync.Once
	exampleDir  string
	exampleErr  error
)

// examplePlugins builds the example plugin once, as dag-plugin-example.
func examplePlugins(t *testing.T) string {
	t.Helper()
	exampleOnce.Do(func() {
		if exampleDir, exampleErr = os.MkdirTemp("", "dag-activities-plugins-"); exampleErr != nil {
			return
		}
		exampleErr = gobuild.Build(context.Background(), "", filepath.Join(exampleDir, "dag-plugin-example"),
			"github.com/dagproject/dag/plugins/internal/exampleplugin/dag-plugin-example")
	})
	if exampleErr != nil {
		t.Fatal(exampleErr)
	}
	return exampleDir
}

// fixture is a store holding a two-node plan (a data node and a
// pretrain node of the example plugin on it) and activities over it.
type fixture struct {
	store artifacts.Store
	acts  *activities.Activities
	plan  digest.Digest
	src   digest.Digest
}

func newFixture(t *testing.T, pretrainParams map[string]any) *fixture {
	t.Helper()
	store, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := artifacts.PutBytes(ctx, store, []byte("a corpus line\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := &study.Plan{Study: "s", Nodes: []study.Node{
		{ID: "data/corpus", Kind: study.KindData, Params: study.ParamsOf(study.DataParams{Format: "text", Adapter: "text"}),
			Source: &study.Source{URI: "corpus.txt", Format: "text"}, Deps: []string{}},
		{ID: "pretrain/base", Kind: study.KindPretrain, Plugin: "example", Params: pretrainParams,
			Inputs: []study.Input{{Name: "data", Node: "data/corpus", Output: study.OutData}}, Deps: []string{"data/corpus"}},
	}}
	plan, err := artifacts.PutBytes(ctx, store, p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	acts, err := activities.New(store, []string{examplePlugins(t)}, t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{store: store, acts: acts, plan: plan, src: src}
}

func (f *fixture) ref(node string, inputs map[string]digest.Digest) runs.NodeRef {
	r := runs.NodeRef{Plan: f.plan, Namespace: "default", Node: node, Inputs: inputs, Run: "run-1"}
	if node == "data/corpus" {
		r.Source = f.src
	}
	return r
}

func activityEnv() *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	return s.NewTestActivityEnvironment()
}

// TestLookupRunLookup runs the activities as a worker does: a miss
// claims the key's lease (granted: no Temporal client, no other run), Run
// executes and publishes under the key Lookup computed, and the next
// Lookup hits with the same outputs.
func TestLookupRunLookup(t *testing.T) {
	f := newFixture(t, map[string]any{"steps": int64(3)})
	env := activityEnv()
	env.RegisterActivity(f.acts)

	var data runs.RunResult
	v, err := env.ExecuteActivity(f.acts.Run, runs.RunInput{NodeRef: f.ref("data/corpus", nil), LookupFirst: true})
	if err != nil || v.Get(&data) != nil || data.Cached || data.Outputs[study.OutData] == "" {
		t.Fatalf("data node: %+v %v", data, err)
	}
	in := map[string]digest.Digest{"data": data.Outputs[study.OutData]}
	holder := &runs.Holder{Workflow: "w", Run: "run-1", Study: "s", Node: "pretrain/base", Queue: runs.TaskQueue}

	var miss runs.LookupResult
	v, err = env.ExecuteActivity(f.acts.Lookup, runs.LookupInput{NodeRef: f.ref("pretrain/base", in), Claim: holder})
	if err != nil || v.Get(&miss) != nil || miss.Hit || miss.Lease == nil || !miss.Lease.Granted {
		t.Fatalf("first look-up: %+v %v", miss, err)
	}
	var ran runs.RunResult
	v, err = env.ExecuteActivity(f.acts.Run, runs.RunInput{NodeRef: f.ref("pretrain/base", in), Lease: miss.Lease})
	if err != nil || v.Get(&ran) != nil || ran.Key != miss.Key || ran.Outputs[study.OutModel] == "" || ran.Metrics["loss"] == 0 {
		t.Fatalf("run: %+v %v (look-up key %s)", ran, err, miss.Key)
	}
	var hit runs.LookupResult
	v, err = env.ExecuteActivity(f.acts.Lookup, runs.LookupInput{NodeRef: f.ref("pretrain/base", in), Claim: holder})
	if err != nil || v.Get(&hit) != nil || !hit.Hit || hit.Key != ran.Key || hit.Outputs[study.OutModel] != ran.Outputs[study.OutModel] || hit.Lease != nil {
		t.Fatalf("second look-up: %+v %v", hit, err)
	}
}

// TestRunErrorClasses checks what Temporal is told of each failure: bad
// params and a missing plugin fail at once (non-retryable, typed); a
// missing input blob is retried.
func TestRunErrorClasses(t *testing.T) {
	for _, tc := range []struct {
		name      string
		params    map[string]any
		plugin    string
		input     digest.Digest
		errType   string // "" retryable
		retryable bool
	}{
		{"bad params", map[string]any{"steps": "many"}, "example", "", activities.ErrTypeInvalidArgument, false},
		{"no such plugin", map[string]any{"steps": int64(1)}, "absent", "", activities.ErrTypeFailedPrecondition, false},
		{"input not stored", map[string]any{"steps": int64(1)}, "example", digest.FromString("gone"), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.params)
			if tc.plugin != "example" {
				p := &study.Plan{Study: "s", Nodes: []study.Node{{ID: "pretrain/base", Kind: study.KindPretrain, Plugin: tc.plugin, Params: tc.params, Deps: []string{}}}}
				f.plan, _ = artifacts.PutBytes(context.Background(), f.store, p.Encode())
			}
			env := activityEnv()
			env.RegisterActivity(f.acts)
			in := map[string]digest.Digest{"data": tc.input}
			if tc.input == "" && tc.plugin == "example" {
				var data runs.RunResult
				v, err := env.ExecuteActivity(f.acts.Run, runs.RunInput{NodeRef: f.ref("data/corpus", nil)})
				if err != nil || v.Get(&data) != nil {
					t.Fatalf("data node: %v", err)
				}
				in["data"] = data.Outputs[study.OutData]
			}
			if tc.plugin != "example" {
				in = nil
			}
			_, err := env.ExecuteActivity(f.acts.Run, runs.RunInput{NodeRef: f.ref("pretrain/base", in)})
			var app *temporal.ApplicationError
			if !errors.As(err, &app) {
				t.Fatalf("error %v is not an application error", err)
			}
			if app.NonRetryable() == tc.retryable || (tc.errType != "" && app.Type() != tc.errType) {
				t.Errorf("error %q: type %q non-retryable %v, want type %q retryable %v", app.Error(), app.Type(), app.NonRetryable(), tc.errType, tc.retryable)
			}
		})
	}
}

// TestRunResumesFromHeartbeat: a retried training attempt whose
// predecessor heartbeat a stored checkpoint is given that checkpoint as
// its resume input and reports the step it resumed from; one whose
// checkpoint is gone from the store fails saying so.
func TestRunResumesFromHeartbeat(t *testing.T) {
	f := newFixture(t, map[string]any{"steps": int64(4), "checkpoint_every": int64(2)})
	env := activityEnv()
	env.RegisterActivity(f.acts)
	var data runs.RunResult
	v, err := env.ExecuteActivity(f.acts.Run, runs.RunInput{NodeRef: f.ref("data/corpus", nil)})
	if err != nil || v.Get(&data) != nil {
		t.Fatal(err)
	}
	in := map[string]digest.Digest{"data": data.Outputs[study.OutData]}
	run := func() (runs.RunResult, error) {
		var r runs.RunResult
		v, err := env.ExecuteActivity(f.acts.Run, runs.RunInput{NodeRef: f.ref("pretrain/base", in)})
		if err == nil {
			err = v.Get(&r)
		}
		return r, err
	}
	first, err := run()
	if err != nil || first.Resumed != 0 {
		t.Fatalf("a first attempt: resumed %d, %v", first.Resumed, err)
	}

	ckpt := t.TempDir()
	writeFile(t, filepath.Join(ckpt, "counter"), "2\n")
	d, err := artifacts.PutDir(context.Background(), f.store, ckpt)
	if err != nil {
		t.Fatal(err)
	}
	env.SetHeartbeatDetails(runs.Progress{Step: 3, Total: 4, Checkpoint: d, CheckpointStep: 2})
	again, err := run()
	if err != nil || again.Resumed != 2 {
		t.Fatalf("a retried attempt: resumed %d, %v; want step 2", again.Resumed, err)
	}

	env.SetHeartbeatDetails(runs.Progress{Step: 3, Total: 4, Checkpoint: digest.FromString("gone"), CheckpointStep: 2})
	if _, err := run(); err == nil || !strings.Contains(err.Error(), "resume checkpoint") {
		t.Fatalf("a retried attempt whose checkpoint is gone: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if exampleDir != "" {
		os.RemoveAll(exampleDir)
	}
	os.Exit(code)
}
