package report

import (
	"encoding/json"
	"testing"

	"github.com/dagproject/dag/internal/versiontest"
)

// TestVersions pins report.json on fixed results and training logs to
// Version.
func TestVersions(t *testing.T) {
	refSafety := 0.2
	spec := Spec{Study: "golden",
		Rows: []Row{{Label: "Base", Model: "pretrain/base", Slug: "base"}, {Label: "SFT", Model: "sft/a", Slug: "sft-a"},
			{Label: "SFT + DPO", Model: "dpo/a+b", Slug: "dpo-a+b"}},
		Tasks: []string{"arc_challenge", "mmlu", "truthfulqa_mc2"}, Safety: true,
		Curves: []CurveSource{{Node: "pretrain/base", Kind: "pretrain"}, {Node: "sft/a", Kind: "sft"}, {Node: "dpo/a+b", Kind: "dpo"}},
		Reference: Reference{Source: "a paper", Benchmarks: map[string]map[string]float64{"SFT": {"mmlu": 0.3, "arc_challenge": 0.5}},
			Safety: map[string]map[string]*float64{"Base": {"zorbs": &refSafety}}},
	}
	logs := map[string][]byte{
		"pretrain/base": []byte("{\"step\":1,\"loss\":4.5}\n{\"step\":2,\"loss\":3.25}\n{\"step\":3,\"loss\":2.875}\n"),
		"sft/a":         []byte("{\"step\":2,\"loss\":1.5}\n{\"step\":1,\"loss\":2.5}\n"),
		"dpo/a+b":       []byte("{\"step\":1,\"loss\":0.693,\"reward_margin\":0,\"reward_accuracy\":0}\n{\"step\":2,\"loss\":0.5,\"reward_margin\":0.75,\"reward_accuracy\":1}\n"),
	}
	res := map[string][]byte{}
	for i, row := range spec.Rows {
		for j, task := range spec.Tasks {
			v := 0.25 + 0.125*float64(i) - 0.0625*float64(j)
			res["eval/"+task+"@"+row.Slug], _ = json.Marshal(map[string]any{"task": task, "metric": "acc", "value": v, "stderr": 0.05, "n": 40})
		}
		res["safety@"+row.Slug], _ = json.Marshal(map[string]any{"groups": map[string]any{
			"zorbs":  map[string]any{"score": 0.3 + 0.1*float64(i), "p": 0.01, "significant": true},
			"mavens": map[string]any{"score": 0.6, "p": 0.4 - 0.2*float64(i), "significant": i == 2},
		}})
	}
	doc, err := Build(spec, res, logs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	versiontest.Check(t, "report", Version, "Version in report/versions.go", b)
}
