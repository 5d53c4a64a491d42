package exampleplugin_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/exampleplugin"
	"github.com/dagproject/dag/plugins/sdk/sdktest"
)

func TestConformance(t *testing.T) {
	ckpt := t.TempDir()
	os.WriteFile(filepath.Join(ckpt, "counter.txt"), []byte("5\n"), 0o644)
	sdktest.Conformance(t, exampleplugin.New(exampleplugin.Config{}), sdktest.Fixture{
		Checkpoint: ckpt,
		Requests: []plugins.LoglikelihoodRequest{
			{Context: "The capital of France is", Continuation: " Paris"},
			{Context: "The capital of France is", Continuation: " Rome"},
			{Continuation: "A sentence to find the perplexity of.", BOSContext: true},
			{Context: "", Continuation: ""},
		},
	})
}

func TestTrainOverTheWire(t *testing.T) {
	p := sdktest.Connect(t, exampleplugin.New(exampleplugin.Config{}))
	out, ckpt := t.TempDir(), t.TempDir()
	var progress []int64
	var checkpoints []string
	res, err := p.Train(t.Context(), plugins.TrainRequest{
		Kind: plugins.KindDPO, OutputDir: out, CheckpointDir: ckpt,
		Params: json.RawMessage(`{"steps": 4, "checkpoint_every": 2, "lora": {"rank": 4}}`),
	}, plugins.EmitterFunc(func(_ context.Context, e plugins.Event) error {
		switch e.Type {
		case plugins.EventProgress:
			progress = append(progress, e.Step)
		case plugins.EventCheckpoint:
			checkpoints = append(checkpoints, e.Dir)
		case plugins.EventMetrics:
			if _, ok := e.Metrics[plugins.MetricRewardMargin]; !ok {
				t.Errorf("dpo metrics without reward margin: %v", e.Metrics)
			}
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Step != 4 || len(progress) != 4 || len(checkpoints) != 2 {
		t.Errorf("result %+v, progress %v, checkpoints %v", res, progress, checkpoints)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "counter.txt")); string(b) != "4\n" {
		t.Errorf("counter %q", b)
	}
	_, err = p.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, OutputDir: out, Params: json.RawMessage(`{"stepz": 1}`)}, plugins.Discard)
	if !errdefs.IsInvalidArgument(err) {
		t.Errorf("unknown param: got %v, want InvalidArgument", err)
	}
	_, err = p.Score(t.Context(), plugins.ScoreRequest{Checkpoint: filepath.Join(out, "missing")})
	if !errdefs.IsNotFound(err) {
		t.Errorf("missing checkpoint: got %v, want NotFound", err)
	}
}

func TestNotReady(t *testing.T) {
	problem := filepath.Join(t.TempDir(), "problem")
	os.WriteFile(problem, []byte("python package torch not installed\n"), 0o644)
	p := sdktest.Connect(t, exampleplugin.New(exampleplugin.Config{ProblemFile: problem}))
	d, err := p.Describe(t.Context())
	if err != nil || d.Ready || d.Problem != "python package torch not installed" {
		t.Fatalf("describe: %+v, %v", d, err)
	}
	_, err = p.Train(t.Context(), plugins.TrainRequest{Kind: plugins.KindSFT, OutputDir: t.TempDir()}, plugins.Discard)
	if !errdefs.IsFailedPrecondition(err) {
		t.Errorf("train when not ready: got %v, want FailedPrecondition", err)
	}
}
