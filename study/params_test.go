package study

import (
	"testing"

	"github.com/dagproject/dag/errdefs"
)

// TestParamsRoundTrip checks that a built-in node's params survive the
// plan (ParamsOf, the plan's encoding, DecodePlan) and decode strictly.
func TestParamsRoundTrip(t *testing.T) {
	dp := DataParams{Format: "jsonl", Adapter: "shp", Sample: &SampleParams{N: 100, Seed: 2}, Options: map[string]any{"score_ratio": 1.5, "mode": "sft"}}
	n := Node{ID: "data/shp", Kind: KindData, Params: ParamsOf(dp), Deps: []string{}}
	p := &Plan{Study: "s", Nodes: []Node{n}}
	back, err := DecodePlan(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeParams[DataParams](back.Nodes[0].Params)
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != "jsonl" || got.Adapter != "shp" || *got.Sample != *dp.Sample || got.Options["score_ratio"] != 1.5 || got.Options["mode"] != "sft" {
		t.Errorf("round trip: %+v", got)
	}
	if b, _ := Canonical(ParamsOf(EvalParams{Task: "mmlu", Shots: 5})); string(b) != `{"shots":5,"task":"mmlu"}` {
		t.Errorf("eval params encode as %s (keys would move)", b)
	}
	for _, bad := range []map[string]any{{"task": "mmlu", "shot": 5}, {"task": 3}} {
		if _, err := DecodeParams[EvalParams](bad); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%v: %v, want InvalidArgument", bad, err)
		}
	}
}

// TestEmptyReferenceKeepsItsKey: a study with an empty reference block
// keeps `"reference":{}` in its report params, as before they were typed.
func TestEmptyReferenceKeepsItsKey(t *testing.T) {
	b, _ := Canonical(ParamsOf(ReportParams{Rows: []ReportRow{}, Tasks: []string{}, Curves: []ReportCurve{}, Reference: map[string]any{}}))
	if string(b) != `{"curves":[],"reference":{},"rows":[],"safety":false,"tasks":[]}` {
		t.Errorf("empty reference: %s", b)
	}
	b, _ = Canonical(ParamsOf(ReportParams{Rows: []ReportRow{}, Tasks: []string{}, Curves: []ReportCurve{}}))
	if string(b) != `{"curves":[],"rows":[],"safety":false,"tasks":[]}` {
		t.Errorf("no reference: %s", b)
	}
}
