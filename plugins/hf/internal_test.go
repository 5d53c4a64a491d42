package hf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

func TestDescriptionParams(t *testing.T) {
	d := plugins.Description{Name: Name, Resource: plugins.ResourceGPU, Ready: true, Params: paramSpec,
		Kinds: []plugins.Kind{plugins.KindSFT}}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := parseParams(nil); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestExecutionOnlyParamsStayOutOfTheKey(t *testing.T) {
	a, _ := parseParams(nil)
	b, err := parseParams(json.RawMessage(`{"log_every": 3, "checkpoint_every": 7, "micro_batch_size": 2,
		"gradient_checkpointing": true, "score_batch_size": 64}`))
	if err != nil {
		t.Fatal(err)
	}
	if a.key() != b.key() {
		t.Errorf("execution-only fields changed the key:\n%s\n%s", a.key(), b.key())
	}
	c, _ := parseParams(json.RawMessage(`{"lora": {"rank": 16}}`))
	if a.key() == c.key() {
		t.Error("lora.rank did not change the key")
	}
	// Every execution-only path of the schema is zeroed by key().
	for _, p := range paramSpec {
		if p.ExecutionOnly != (p.Path == "log_every" || p.Path == "checkpoint_every" || p.Path == "micro_batch_size" ||
			p.Path == "gradient_checkpointing" || p.Path == "score_batch_size") {
			t.Errorf("param %s: execution-only %v not handled by key()", p.Path, p.ExecutionOnly)
		}
	}
}

func TestParamErrors(t *testing.T) {
	for _, raw := range []string{
		`{"nope": 1}`, `{"batch_size": 0}`, `{"lr_scheduler": "linear"}`, `{"dtype": "int8"}`,
		`{"label_smoothing": 0.5}`, `{"prompt_template": "no placeholder"}`, `{"lora": {"target_modules": []}}`,
		`{"max_prompt_length": 1024}`, `{"steps": "ten"}`,
	} {
		if _, err := parseParams(json.RawMessage(raw)); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: got %v, want InvalidArgument", raw, err)
		}
	}
}

func TestSourcesDigest(t *testing.T) {
	a := fstest.MapFS{"worker/dag_hf_worker/x.py": {Data: []byte("a = 1\n")}}
	b := fstest.MapFS{"worker/dag_hf_worker/x.py": {Data: []byte("a = 2\n")}}
	if sourcesDigest(a) == sourcesDigest(b) {
		t.Error("changed sources, same digest")
	}
	if len(sourcesSum) != 64 {
		t.Errorf("digest %q", sourcesSum)
	}
}

func TestMaterialize(t *testing.T) {
	cache := t.TempDir()
	dir, err := materialize(cache)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := workerFS.ReadFile("worker/dag_hf_worker/losses.py")
	got, err := os.ReadFile(filepath.Join(dir, "dag_hf_worker", "losses.py"))
	if err != nil || string(got) != string(want) {
		t.Fatalf("materialised losses.py: %v", err)
	}
	again, err := materialize(cache)
	if err != nil || again != dir {
		t.Errorf("second materialise: %q, %v", again, err)
	}
	entries, _ := os.ReadDir(cache)
	if len(entries) != 1 {
		t.Errorf("cache holds %d entries", len(entries))
	}
}

func TestEventClasses(t *testing.T) {
	for class, is := range map[string]func(error) bool{
		"invalid_argument": errdefs.IsInvalidArgument, "failed_precondition": errdefs.IsFailedPrecondition,
		"not_found": errdefs.IsNotFound, "unavailable": errdefs.IsUnavailable,
	} {
		if err := (event{Event: evError, Class: class, Message: "m"}).err("train"); !is(err) {
			t.Errorf("%s: %v", class, err)
		}
	}
	err := (event{Event: evError, Class: "internal", Message: "boom"}).err("train")
	if errdefs.IsInvalidArgument(err) || errdefs.IsUnavailable(err) || errdefs.IsFailedPrecondition(err) {
		t.Errorf("internal got a class: %v", err)
	}
	e, err := decodeEvent([]byte(`{"event":"metrics","step":3,"values":{"loss":null,"reward_margin":0.5}}`))
	if err != nil || e.Values["reward_margin"] != 0.5 || e.Step != 3 {
		t.Errorf("decode: %+v, %v", e, err)
	}
}

// TestParamsKeyBytes pins the params key the worker fingerprints
// checkpoints with to what earlier releases sent (execution-only fields
// zeroed, struct order), so checkpoints stored before an upgrade resume.
func TestParamsKeyBytes(t *testing.T) {
	p, err := parseParams(json.RawMessage(`{"log_every": 3, "checkpoint_every": 7, "micro_batch_size": 2, "gradient_checkpointing": true, "score_batch_size": 5, "steps": 9}`))
	if err != nil {
		t.Fatal(err)
	}
	old := p
	old.LogEvery, old.CheckpointEvery, old.MicroBatchSize, old.ScoreBatchSize = 0, 0, 0, 0
	old.GradientCheckpointing = false
	want, _ := json.Marshal(old)
	if got := p.key(); got != string(want) {
		t.Errorf("params key\n%s\nwant\n%s", got, want)
	}
}
