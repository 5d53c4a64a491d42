package hf_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/hf"
	"github.com/dagproject/dag/plugins/sdk/sdktest"
)

var sftLines = func() []string {
	var out []string
	for i := range 8 {
		out = append(out, fmt.Sprintf(`{"prompt": "what is %d+%d?", "response": "%d."}`, i, i, 2*i))
	}
	return out
}()

var dpoLines = []string{
	`{"prompt": "favourite colour?", "chosen": " blue", "rejected": " red!"}`,
	`{"prompt": "sky colour?", "chosen": " blue", "rejected": " red!"}`,
	`{"prompt": "sea colour?", "chosen": " blue", "rejected": " red!"}`,
	`{"prompt": "ink colour?", "chosen": " blue", "rejected": " red!"}`,
}

var someRequests = []plugins.LoglikelihoodRequest{
	{Context: "Question: what is 2+2?\n\nAnswer:", Continuation: " 4."},
	{Context: "Question: what is 2+2?\n\nAnswer:", Continuation: " 5."},
	{Continuation: "A sentence whose perplexity we want.", BOSContext: true},
	{Context: "", Continuation: "no context"},
}

func TestDescribeWithoutPython(t *testing.T) {
	b, err := hf.New(hf.WithPython(filepath.Join(t.TempDir(), "python3")), hf.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d.Ready || !strings.Contains(d.Problem, "DAG_PYTHON") {
		t.Errorf("ready %v, problem %q", d.Ready, d.Problem)
	}
	if err := d.Validate(); err != nil {
		t.Error(err)
	}
	if d.Resource != plugins.ResourceGPU || d.Name != "hf" {
		t.Errorf("description %+v", d)
	}
	_, err = b.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, Inputs: map[string]string{"model": "/m", "data": "/d"}, OutputDir: t.TempDir()}, plugins.Discard)
	if !errdefs.IsFailedPrecondition(err) {
		t.Errorf("train without python: got %v, want FailedPrecondition", err)
	}
}

func TestDescribeMissingPackages(t *testing.T) {
	py := torchPython(t)
	if exec.Command(py, "-c", "import transformers, peft").Run() == nil {
		t.Skip("transformers and peft are installed here")
	}
	b, err := hf.New(hf.WithPython(py), hf.WithCacheDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d.Ready || !strings.Contains(d.Problem, "transformers") || !strings.Contains(d.Problem, "pip install") {
		t.Errorf("ready %v, problem %q", d.Ready, d.Problem)
	}
	_, err = b.Score(t.Context(), plugins.ScoreRequest{Checkpoint: t.TempDir(), Requests: someRequests})
	if !errdefs.IsFailedPrecondition(err) {
		t.Errorf("score without packages: got %v, want FailedPrecondition", err)
	}
}

func TestConformance(t *testing.T) {
	b := toyBackend(t)
	d, err := b.Describe(t.Context())
	if err != nil || !d.Ready {
		t.Fatalf("describe: %v, %+v", err, d)
	}
	sdktest.Conformance(t, b, sdktest.Fixture{Checkpoint: toyBase(t), Requests: someRequests})
}

// TestStudy runs sft, then dpo on its output, then scores the result, all
// over gRPC against the real worker.
func TestStudy(t *testing.T) {
	b := sdktest.Connect(t, toyBackend(t))
	ctx := t.Context()
	base := toyBase(t)

	sftOut, ckpts := t.TempDir(), t.TempDir()
	rec := &recorder{}
	res, err := b.Train(ctx, plugins.TrainRequest{
		Kind:   plugins.KindSFT,
		Inputs: map[string]string{plugins.InputModel: base, plugins.InputData: writeData(t, sftLines...)},
		Params: []byte(`{"steps": 30, "batch_size": 4, "learning_rate": 0.01, "max_length": 64, "dtype": "float32",
			"log_every": 1, "checkpoint_every": 10, "lora": {"target_modules": ["q_proj", "v_proj", "up_proj"], "dropout": 0}}`),
		OutputDir: sftOut, CheckpointDir: ckpts,
	}, rec)
	if err != nil {
		t.Fatalf("sft: %v", err)
	}
	ls := rec.losses()
	if res.Step != 30 || len(ls) != 30 || mean(ls[25:]) > 0.7*mean(ls[:5]) {
		t.Errorf("sft: step %d, losses %v", res.Step, ls)
	}
	var cps, logs int
	for _, e := range rec.events {
		switch e.Type {
		case plugins.EventCheckpoint:
			cps++
			if _, err := os.Stat(filepath.Join(e.Dir, "state.json")); err != nil {
				t.Errorf("checkpoint %s: %v", e.Dir, err)
			}
		case plugins.EventLog:
			logs++
		}
	}
	if cps != 2 || logs == 0 {
		t.Errorf("%d checkpoints, %d log lines", cps, logs)
	}
	for _, f := range []string{"adapter_config.json", "dag-hf.json", "parent/config.json"} {
		if _, err := os.Stat(filepath.Join(sftOut, f)); err != nil {
			t.Errorf("sft output: %v", err)
		}
	}

	// A retried attempt resumes from the first checkpoint (step 10).
	var first string
	for _, e := range rec.events {
		if e.Type == plugins.EventCheckpoint && first == "" {
			first = e.Dir
		}
	}
	resumed := &recorder{}
	_, err = b.Train(ctx, plugins.TrainRequest{
		Kind: plugins.KindSFT,
		Inputs: map[string]string{plugins.InputModel: base, plugins.InputData: writeData(t, sftLines...),
			plugins.InputResume: first},
		Params: []byte(`{"steps": 30, "batch_size": 4, "learning_rate": 0.01, "max_length": 64, "dtype": "float32",
			"log_every": 5, "checkpoint_every": 0, "lora": {"target_modules": ["q_proj", "v_proj", "up_proj"], "dropout": 0}}`),
		OutputDir: t.TempDir(),
	}, resumed)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if got := resumed.losses(); len(got) != 4 || math.Abs(got[3]-ls[29]) > 1e-4 {
		t.Errorf("resumed losses %v, uninterrupted run ended at %v", got, ls[29])
	}

	dpoOut := t.TempDir()
	rec = &recorder{}
	res, err = b.Train(ctx, plugins.TrainRequest{
		Kind:   plugins.KindDPO,
		Inputs: map[string]string{plugins.InputModel: sftOut, plugins.InputData: writeData(t, dpoLines...)},
		Params: []byte(`{"steps": 20, "batch_size": 4, "learning_rate": 0.02, "beta": 0.5, "max_length": 64,
			"dtype": "float32", "log_every": 1, "lora": {"target_modules": ["q_proj", "v_proj", "up_proj"]}}`),
		OutputDir: dpoOut,
	}, rec)
	if err != nil {
		t.Fatalf("dpo: %v", err)
	}
	ls = rec.losses()
	if ls[0] < 0.69 || ls[0] > 0.70 || ls[len(ls)-1] > 0.6 || res.Metrics[plugins.MetricRewardAccuracy] != 1 {
		t.Errorf("dpo: losses %v, final %v", ls, res.Metrics)
	}
	for _, m := range []string{plugins.MetricRewardChosen, plugins.MetricRewardRejected, plugins.MetricRewardMargin} {
		if _, ok := res.Metrics[m]; !ok {
			t.Errorf("dpo: no %s in %v", m, res.Metrics)
		}
	}

	inline, err := b.Score(ctx, plugins.ScoreRequest{Checkpoint: dpoOut, Requests: someRequests})
	if err != nil {
		t.Fatalf("score: %v", err)
	}
	if inline.Count != len(someRequests) || inline.Results[2].Tokens != len(someRequests[2].Continuation) {
		t.Errorf("score: %+v", inline)
	}
	if a, b := inline.Results[0].Logprob, inline.Results[1].Logprob; !(a < 0 && b < 0) {
		t.Errorf("log-probabilities %v %v", a, b)
	}

	dir := t.TempDir()
	in, out := filepath.Join(dir, "req.jsonl"), filepath.Join(dir, "res.jsonl")
	f, _ := os.Create(in)
	plugins.WriteRequests(f, someRequests)
	f.Close()
	file, err := b.Score(ctx, plugins.ScoreRequest{Checkpoint: dpoOut, RequestsPath: in, OutputPath: out,
		Params: []byte(`{"score_batch_size": 1}`)})
	if err != nil || file.Count != len(someRequests) {
		t.Fatalf("score file mode: %v, %+v", err, file)
	}
	rf, _ := os.Open(out)
	got, err := plugins.ReadResults(rf)
	rf.Close()
	if err != nil || len(got) != len(someRequests) {
		t.Fatalf("results file: %v, %d results", err, len(got))
	}
	for i := range got {
		if d := got[i].Logprob - inline.Results[i].Logprob; d > 1e-4 || d < -1e-4 || got[i].Tokens != inline.Results[i].Tokens {
			t.Errorf("request %d: batch 1 %+v, batch 16 %+v", i, got[i], inline.Results[i])
		}
	}
}

func TestTrainCancel(t *testing.T) {
	b := toyBackend(t, hf.WithGrace(2*time.Second))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	rec := &recorder{hook: func(e plugins.Event) error {
		if e.Type == plugins.EventProgress {
			cancel()
		}
		return nil
	}}
	began := time.Now()
	_, err := b.Train(ctx, plugins.TrainRequest{
		Kind:      plugins.KindSFT,
		Inputs:    map[string]string{plugins.InputModel: toyBase(t), plugins.InputData: writeData(t, sftLines...)},
		Params:    []byte(`{"steps": 100000, "batch_size": 2, "max_length": 64}`),
		OutputDir: t.TempDir(),
	}, rec)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if el := time.Since(began); el > 30*time.Second {
		t.Errorf("cancel took %v", el)
	}
}

func TestEmitterErrorStopsTheStage(t *testing.T) {
	b := toyBackend(t)
	boom := errors.New("host gone")
	rec := &recorder{hook: func(e plugins.Event) error {
		if e.Type == plugins.EventProgress && e.Step == 2 {
			return boom
		}
		return nil
	}}
	_, err := b.Train(t.Context(), plugins.TrainRequest{
		Kind:      plugins.KindSFT,
		Inputs:    map[string]string{plugins.InputModel: toyBase(t), plugins.InputData: writeData(t, sftLines...)},
		Params:    []byte(`{"steps": 100000, "batch_size": 2, "max_length": 64}`),
		OutputDir: t.TempDir(),
	}, rec)
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the emitter's error", err)
	}
}

func TestWorkerCrash(t *testing.T) {
	b := toyBackend(t, hf.WithEnv("DAG_HF_TEST_CRASH=load"))
	_, err := b.Train(t.Context(), plugins.TrainRequest{
		Kind:      plugins.KindSFT,
		Inputs:    map[string]string{plugins.InputModel: toyBase(t), plugins.InputData: writeData(t, sftLines...)},
		OutputDir: t.TempDir(),
	}, plugins.Discard)
	if !errdefs.IsUnavailable(err) || !strings.Contains(err.Error(), "simulated crash") || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("got %v, want Unavailable with the exit status and stderr", err)
	}
}

func TestErrorClasses(t *testing.T) {
	b := toyBackend(t)
	ctx := t.Context()
	base := toyBase(t)
	train := func(kind plugins.Kind, inputs map[string]string, params string) error {
		_, err := b.Train(ctx, plugins.TrainRequest{Kind: kind, Inputs: inputs, Params: []byte(params), OutputDir: t.TempDir()}, plugins.Discard)
		return err
	}
	data := writeData(t, sftLines...)
	cases := []struct {
		name string
		err  error
		is   func(error) bool
	}{
		{"pretrain", train(plugins.KindPretrain, map[string]string{"model": base, "data": data}, ""), errdefs.IsInvalidArgument},
		{"unknown param", train(plugins.KindSFT, map[string]string{"model": base, "data": data}, `{"nope": 1}`), errdefs.IsInvalidArgument},
		{"bad beta", train(plugins.KindDPO, map[string]string{"model": base, "data": data}, `{"beta": 0}`), errdefs.IsInvalidArgument},
		{"no data file", train(plugins.KindSFT, map[string]string{"model": base, "data": t.TempDir()}, ""), errdefs.IsNotFound},
		{"bad record", train(plugins.KindDPO, map[string]string{"model": base, "data": data}, ""), errdefs.IsInvalidArgument},
		{"not a model", train(plugins.KindSFT, map[string]string{"model": t.TempDir(), "data": data}, ""), errdefs.IsFailedPrecondition},
	}
	for _, c := range cases {
		if !c.is(c.err) {
			t.Errorf("%s: wrong class: %v", c.name, c.err)
		}
	}
	_, err := b.Score(ctx, plugins.ScoreRequest{Checkpoint: base, RequestsPath: filepath.Join(t.TempDir(), "none"), OutputPath: filepath.Join(t.TempDir(), "out")})
	if !errdefs.IsNotFound(err) {
		t.Errorf("missing requests file: %v", err)
	}
	_, err = b.Score(ctx, plugins.ScoreRequest{Checkpoint: filepath.Join(t.TempDir(), "gone"), Requests: someRequests})
	if !errdefs.IsNotFound(err) {
		t.Errorf("missing checkpoint: %v", err)
	}
}
