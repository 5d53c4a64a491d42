package report

import (
	"encoding/json"
	"testing"
)

func TestBuildTables(t *testing.T) {
	spec := Spec{Study: "s", Rows: []Row{{Label: "Base", Model: "pretrain/base", Slug: "base"}, {Label: "SFT", Model: "sft/a", Slug: "sft-a"}},
		Tasks: []string{"arc_challenge", "mmlu"}, Safety: true}
	res := map[string][]byte{
		"eval/arc_challenge@base":  []byte(`{"task":"arc_challenge","metric":"acc_norm","value":0.25,"stderr":0.1,"n":4}`),
		"eval/mmlu@base":           []byte(`{"task":"mmlu","metric":"acc","value":0.5,"stderr":0.2,"n":4}`),
		"eval/arc_challenge@sft-a": []byte(`{"task":"arc_challenge","metric":"acc_norm","value":0.75,"stderr":0.1,"n":4}`),
		"eval/mmlu@sft-a":          []byte(`{"task":"mmlu","metric":"acc","value":0.25,"stderr":0.2,"n":4}`),
		"safety@base":              []byte(`{"groups":{"zorbs":{"score":0.3,"p":0.01,"significant":true},"mavens":{"score":0.6,"p":0.4,"significant":false}}}`),
		"safety@sft-a":             []byte(`{"groups":{"zorbs":{"score":0.45,"p":0.02,"significant":true}}}`),
	}
	doc, err := Build(spec, res)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Benchmarks.Rows[1].Values["arc_challenge"] != 0.75 || doc.Benchmarks.Rows[0].Stderr["mmlu"] != 0.2 {
		t.Errorf("benchmarks: %+v", doc.Benchmarks.Rows)
	}
	if got := doc.Benchmarks.Metrics; len(got) != 2 || got[0] != "acc_norm" || got[1] != "acc" {
		t.Errorf("metrics: %v", got)
	}
	if len(doc.Safety.Groups) != 2 || doc.Safety.Groups[0] != "mavens" {
		t.Errorf("groups: %v", doc.Safety.Groups)
	}
	base := doc.Safety.Rows[0]
	if base.Values["mavens"] != nil || base.P["mavens"] != 0.4 || *base.Values["zorbs"] != 0.3 {
		t.Errorf("a non-significant group must be null with its p kept: %+v", base)
	}
	if v, ok := doc.Safety.Rows[1].Values["mavens"]; !ok || v != nil {
		t.Errorf("a group a model has no score for must be null, present: %v %v", v, ok)
	}
	b, _ := json.Marshal(doc)
	var back map[string]any
	json.Unmarshal(b, &back)
	for _, k := range []string{"study", "benchmarks", "safety", "reference"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	delete(res, "eval/mmlu@sft-a")
	if _, err := Build(spec, res); err == nil {
		t.Error("a missing result must be an error")
	}
}
