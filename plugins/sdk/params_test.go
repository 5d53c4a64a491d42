package sdk

import (
	"encoding/json"
	"testing"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

type demoParams struct {
	Steps int `json:"steps"`
	LoRA  struct {
		Rank    int     `json:"rank"`
		Dropout float64 `json:"dropout"`
	} `json:"lora"`
	LogEvery int `json:"log_every"`
}

var demoSpec = []plugins.Param{
	{Path: "steps", Type: plugins.TypeInt, Default: json.RawMessage("5")},
	{Path: "lora.rank", Type: plugins.TypeInt, Default: json.RawMessage("8")},
	{Path: "lora.dropout", Type: plugins.TypeFloat, Default: json.RawMessage("0.05"), ExecutionOnly: true},
	{Path: "log_every", Type: plugins.TypeInt, Default: json.RawMessage("10"), ExecutionOnly: true},
}

func TestParseParams(t *testing.T) {
	var p demoParams
	if err := ParseParams(demoSpec, json.RawMessage(`{"lora": {"rank": 4}}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Steps != 5 || p.LoRA.Rank != 4 || p.LoRA.Dropout != 0.05 || p.LogEvery != 10 {
		t.Errorf("defaults under the request: %+v", p)
	}
	if err := ParseParams(demoSpec, json.RawMessage(`{"stpes": 3}`), &p); !errdefs.IsInvalidArgument(err) {
		t.Errorf("a misspelt key: %v, want InvalidArgument", err)
	}
}

func TestWithoutExecutionOnly(t *testing.T) {
	var a, b demoParams
	ParseParams(demoSpec, nil, &a)
	ParseParams(demoSpec, json.RawMessage(`{"log_every": 1, "lora": {"dropout": 0.2}}`), &b)
	ka, _ := WithoutExecutionOnly(demoSpec, a)
	kb, _ := WithoutExecutionOnly(demoSpec, b)
	if string(ka) != string(kb) || string(ka) != `{"steps":5,"lora":{"rank":8,"dropout":0},"log_every":0}` {
		t.Errorf("%s vs %s", ka, kb)
	}
	b.Steps = 6
	if kc, _ := WithoutExecutionOnly(demoSpec, b); string(kc) == string(ka) {
		t.Error("a param that is not execution-only must change the result")
	}
}
