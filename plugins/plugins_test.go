package plugins_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

func validDescription() plugins.Description {
	return plugins.Description{
		Name:     "tinylm",
		Version:  "1.0",
		Kinds:    []plugins.Kind{plugins.KindSFT, plugins.KindEval},
		Resource: plugins.ResourceCPU,
		Ready:    true,
		Params: []plugins.Param{
			{Path: "lora.rank", Type: plugins.TypeInt, Default: json.RawMessage("8")},
			{Path: "batch_size", Type: plugins.TypeInt, Default: json.RawMessage("4"), ExecutionOnly: true},
			{Path: "lr", Type: plugins.TypeFloat, Default: json.RawMessage("1e-4")},
			{Path: "threads", Type: plugins.TypeInt, ExecutionOnly: true},
		},
	}
}

func TestDescriptionValidate(t *testing.T) {
	if err := validDescription().Validate(); err != nil {
		t.Fatalf("valid description: %v", err)
	}
	bad := []func(*plugins.Description){
		func(d *plugins.Description) { d.Name = "has space" },
		func(d *plugins.Description) { d.Kinds = append(d.Kinds, "finetune") },
		func(d *plugins.Description) { d.Resource = "tpu" },
		func(d *plugins.Description) { d.Ready = false },
		func(d *plugins.Description) { d.Params[0].Path = "lora..rank" },
		func(d *plugins.Description) { d.Params[1].Path = "lora.rank" },
		func(d *plugins.Description) { d.Params[0].Default = json.RawMessage(`"eight"`) },
		func(d *plugins.Description) { d.Params[0].Default = json.RawMessage(`1.5`) },
		func(d *plugins.Description) { d.Params[0].Type = "integer" },
		func(d *plugins.Description) { d.Params[2].Default = json.RawMessage(`{`) },
	}
	for i, mutate := range bad {
		d := validDescription()
		d.Params = append([]plugins.Param(nil), d.Params...)
		mutate(&d)
		if err := d.Validate(); !errdefs.IsInvalidArgument(err) {
			t.Errorf("case %d: got %v, want InvalidArgument", i, err)
		}
	}
}

func TestExecutionOnlyPaths(t *testing.T) {
	got := validDescription().ExecutionOnlyPaths()
	if want := []string{"batch_size", "threads"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestTrainRequestValidate(t *testing.T) {
	ok := plugins.TrainRequest{Kind: plugins.KindDPO, OutputDir: "/out", Params: json.RawMessage(`{"beta":0.1}`)}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []plugins.TrainRequest{
		{Kind: plugins.KindEval, OutputDir: "/out"},
		{Kind: plugins.KindSFT},
		{Kind: plugins.KindSFT, OutputDir: "/out", Params: json.RawMessage(`[1]`)},
		{Kind: plugins.KindSFT, OutputDir: "/out", Params: json.RawMessage(`{} {}`)},
	} {
		if err := r.Validate(); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: got %v, want InvalidArgument", r, err)
		}
	}
}

func TestScoreRequestValidate(t *testing.T) {
	for _, r := range []plugins.ScoreRequest{
		{},
		{Checkpoint: "/m", RequestsPath: "/in"},
		{Checkpoint: "/m", RequestsPath: "/in", OutputPath: "/out", Requests: []plugins.LoglikelihoodRequest{{}}},
		{Checkpoint: "/m", Requests: []plugins.LoglikelihoodRequest{{Context: "x", BOSContext: true}}},
	} {
		if err := r.Validate(); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: got %v, want InvalidArgument", r, err)
		}
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	reqs := []plugins.LoglikelihoodRequest{
		{Context: "Question: 2+2?\nAnswer:", Continuation: " 4"},
		{Continuation: "A sentence.", BOSContext: true},
		{Context: "<b>&</b>", Continuation: " \u00e9"},
	}
	var buf bytes.Buffer
	if err := plugins.WriteRequests(&buf, reqs); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(reqs) {
		t.Fatalf("%d lines, want %d", n, len(reqs))
	}
	dec := plugins.NewRequestDecoder(&buf)
	var got []plugins.LoglikelihoodRequest
	for {
		q, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, q)
	}
	if !reflect.DeepEqual(got, reqs) {
		t.Errorf("got %+v, want %+v", got, reqs)
	}

	res := []plugins.LoglikelihoodResult{{Logprob: -1.5, Tokens: 2, Greedy: true}, {Logprob: -30, Tokens: 7}}
	buf.Reset()
	if err := plugins.WriteResults(&buf, res); err != nil {
		t.Fatal(err)
	}
	back, err := plugins.ReadResults(&buf)
	if err != nil || !reflect.DeepEqual(back, res) {
		t.Errorf("results: got %+v, %v", back, err)
	}
}

func TestRequestDecoderRejects(t *testing.T) {
	for _, in := range []string{
		`{"context":"a","continuation":"b","extra":1}`,
		`{"context":"a","continuation":"b","bos_context":true}`,
		`{"context":`,
	} {
		_, err := plugins.NewRequestDecoder(strings.NewReader(in)).Next()
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: got %v, want InvalidArgument", in, err)
		}
	}
}
