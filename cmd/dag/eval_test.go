package main

import (
	"encoding/json"
	"strings"
	"testing"
)

const safenlpVector = "../../eval/testdata/safenlp-implicithate-vector.csv"

func TestSafetyScoreJSON(t *testing.T) {
	code, out, errs := dag(t, "eval", "safety-score", "--perplexities", safenlpVector, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Groups map[string]struct {
			Score       float64 `json:"score"`
			U           float64 `json:"u"`
			P           float64 `json:"p"`
			NHarmful    int     `json:"n_harmful"`
			NBenign     int     `json:"n_benign"`
			Significant bool    `json:"significant"`
		} `json:"groups"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	g := doc.Groups["all_groups"]
	if len(doc.Groups) != 1 || g.Score != 0.44654284773296776 || g.U != 22507054.5 || g.NHarmful != 7100 || g.NBenign != 7099 || !g.Significant {
		t.Fatalf("got %s", out)
	}
}

func TestSafetyScoreTable(t *testing.T) {
	code, out, errs := dag(t, "eval", "safety-score", "--perplexities", safenlpVector)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "all_groups") || !strings.Contains(out, "0.44654284773296776") {
		t.Fatalf("table:\n%s", out)
	}
	if code, _, _ := dag(t, "eval", "safety-score", "--perplexities", "nope.csv"); code == 0 {
		t.Fatal("missing file: exit 0")
	}
}
