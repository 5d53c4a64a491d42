package report

import (
	"encoding/json"
	"testing"

	"github.com/dagproject/dag/internal/versiontest"
	"github.com/dagproject/dag/study"
)

// TestVersions pins what a report node computes (BuildNode: its params as
// study.Compile writes them, results and training logs) to Version.
func TestVersions(t *testing.T) {
	var params map[string]any
	err := json.Unmarshal([]byte(`{
		"rows": [{"label": "Base", "model": "pretrain/base", "slug": "base"},
		         {"label": "SFT", "model": "sft/a", "slug": "sft-a"},
		         {"label": "SFT + DPO", "model": "dpo/a+b", "slug": "dpo-a+b"}],
		"tasks": ["arc_challenge", "mmlu", "truthfulqa_mc2"],
		"safety": true,
		"curves": [{"node": "pretrain/base", "kind": "pretrain"}, {"node": "sft/a", "kind": "sft"}, {"node": "dpo/a+b", "kind": "dpo"}],
		"reference": {"source": "a paper",
		              "benchmarks": {"SFT": {"mmlu": 0.3, "arc_challenge": 0.5}},
		              "safety": {"Base": {"zorbs": 0.2, "mavens": null}}}
	}`), &params)
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{
		study.CurveInput + "pretrain/base": []byte("{\"step\":1,\"loss\":4.5}\n{\"step\":2,\"loss\":3.25}\n{\"step\":3,\"loss\":2.875}\n"),
		study.CurveInput + "sft/a":         []byte("{\"step\":2,\"loss\":1.5}\n{\"step\":1,\"loss\":2.5}\n"),
		study.CurveInput + "dpo/a+b":       []byte("{\"step\":1,\"loss\":0.693,\"reward_margin\":0,\"reward_accuracy\":0}\n{\"step\":2,\"loss\":0.5,\"reward_margin\":0.75,\"reward_accuracy\":1}\n"),
	}
	for i, slug := range []string{"base", "sft-a", "dpo-a+b"} {
		for j, task := range []string{"arc_challenge", "mmlu", "truthfulqa_mc2"} {
			v := 0.25 + 0.125*float64(i) - 0.0625*float64(j)
			inputs["eval/"+task+"@"+slug], _ = json.Marshal(map[string]any{"task": task, "metric": "acc", "value": v, "stderr": 0.05, "n": 40})
		}
		inputs["safety@"+slug], _ = json.Marshal(map[string]any{"groups": map[string]any{
			"zorbs":  map[string]any{"score": 0.3 + 0.1*float64(i), "p": 0.01, "significant": true},
			"mavens": map[string]any{"score": 0.6, "p": 0.4 - 0.2*float64(i), "significant": i == 2},
		}})
	}
	doc, err := BuildNode("golden", params, inputs)
	if err != nil {
		t.Fatal(err)
	}
	versiontest.Check(t, "report", Version, "Version in report/versions.go", versiontest.JSON(t, doc))
}

// TestInputFiles checks which file the report reads of each input.
func TestInputFiles(t *testing.T) {
	if InputFile("eval/mmlu@base") != "result.json" || InputFile(study.CurveInput+"sft/a") != "metrics.jsonl" {
		t.Error(InputFile("eval/mmlu@base"), InputFile(study.CurveInput+"sft/a"))
	}
	if _, err := SpecOf("s", map[string]any{"rows": []any{}, "colour": "red"}); err == nil {
		t.Error("an unknown report param must be an error")
	}
}
