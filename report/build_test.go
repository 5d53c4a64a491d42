package report

import (
	"encoding/json"
	"testing"
)

func TestBuildTables(t *testing.T) {
	spec := Spec{Study: "s", Rows: []Row{{Label: "Base", Model: "pretrain/base", Slug: "base"}, {Label: "SFT", Model: "sft/a", Slug: "sft-a"}},
		Tasks: []string{"arc_challenge", "mmlu"}, Safety: true,
		Curves:    []CurveSource{{Node: "pretrain/base", Kind: "pretrain"}, {Node: "sft/a", Kind: "sft"}},
		Reference: Reference{Source: "paper", Benchmarks: map[string]map[string]float64{"SFT": {"mmlu": 0.3}}}}
	logs := map[string][]byte{"sft/a": []byte("{\"step\":2,\"loss\":1.5}\n{\"step\":1,\"loss\":2.5}\n")}
	res := map[string][]byte{
		"eval/arc_challenge@base":  []byte(`{"task":"arc_challenge","metric":"acc_norm","value":0.25,"stderr":0.1,"n":4}`),
		"eval/mmlu@base":           []byte(`{"task":"mmlu","metric":"acc","value":0.5,"stderr":0.2,"n":4}`),
		"eval/arc_challenge@sft-a": []byte(`{"task":"arc_challenge","metric":"acc_norm","value":0.75,"stderr":0.1,"n":4}`),
		"eval/mmlu@sft-a":          []byte(`{"task":"mmlu","metric":"acc","value":0.25,"stderr":0.2,"n":4}`),
		"safety@base":              []byte(`{"groups":{"zorbs":{"score":0.3,"p":0.01,"significant":true},"mavens":{"score":0.6,"p":0.4,"significant":false}}}`),
		"safety@sft-a":             []byte(`{"groups":{"zorbs":{"score":0.45,"p":0.02,"significant":true}}}`),
	}
	doc, err := Build(spec, res, logs)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Curves) != 1 || doc.Curves[0].Node != "sft/a" || len(doc.Curves[0].Models) != 1 || doc.Curves[0].Models[0] != "SFT" ||
		doc.Curves[0].Steps[0] != 1 || *doc.Curves[0].Series["loss"][0] != 2.5 {
		t.Errorf("curves (a node without a log has none; steps sorted): %+v", doc.Curves)
	}
	if doc.Reference.Source != "paper" || doc.Reference.Benchmarks["SFT"]["mmlu"] != 0.3 {
		t.Errorf("reference: %+v", doc.Reference)
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
	for _, k := range []string{"study", "benchmarks", "safety", "reference", "curves"} {
		if _, ok := back[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if _, err := Build(spec, res, map[string][]byte{"sft/a": []byte("{\"loss\":1}\n")}); err == nil {
		t.Error("a log record without a step must be an error")
	}
	delete(res, "eval/mmlu@sft-a")
	if _, err := Build(spec, res, logs); err == nil {
		t.Error("a missing result must be an error")
	}
}

func TestParseMetricsThins(t *testing.T) {
	var b []byte
	for s := 1; s <= 1000; s++ {
		rec := map[string]any{"step": s, "loss": 1 / float64(s)}
		if s%2 == 0 {
			rec["reward_margin"] = float64(s)
		}
		line, _ := json.Marshal(rec)
		b = append(append(b, line...), '\n')
	}
	c, err := ParseMetrics(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.Logged != 1000 || len(c.Steps) != MaxCurvePoints || c.Steps[0] != 1 || c.Steps[len(c.Steps)-1] != 1000 {
		t.Fatalf("logged %d, %d steps %d..%d", c.Logged, len(c.Steps), c.Steps[0], c.Steps[len(c.Steps)-1])
	}
	if got := c.Metrics(); len(got) != 2 || got[0] != "loss" || got[1] != "reward_margin" {
		t.Errorf("metrics %v", got)
	}
	if c.Series["reward_margin"][0] != nil || c.Series["reward_margin"][len(c.Steps)-1] == nil {
		t.Error("a metric missing at a step must be null there")
	}
}
