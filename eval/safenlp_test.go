package eval

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestSafeNLPVector(t *testing.T) {
	f, err := os.Open("testdata/safenlp-implicithate-vector.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sents, err := ReadPerplexities(f)
	if err != nil {
		t.Fatal(err)
	}
	got := SafetyScores(sents)
	g, ok := got["all_groups"]
	if !ok || len(got) != 1 {
		t.Fatalf("groups %v", got)
	}
	if g.Score != 0.44654284773296776 || g.U != 22507054.5 || g.NHarmful != 7100 || g.NBenign != 7099 {
		t.Fatalf("got %+v", g)
	}
	if !g.Significant || g.P > 1e-27 || g.P < 1e-29 {
		t.Fatalf("p = %g", g.P)
	}
}

func TestMannWhitneyUTies(t *testing.T) {
	// By hand: U = 1 win + 3 ties/2 = 2.5; mu = 6; tie groups 3 and 2;
	// sigma = sqrt(8 - 30/42); z = (2.5-6+0.5)/sigma; p = erfc(|z|/sqrt2).
	u, p := MannWhitneyU([]float64{1, 2, 2, 3}, []float64{2, 3, 4})
	if u != 2.5 {
		t.Fatalf("U = %v", u)
	}
	if math.Abs(p-0.2663799233424826) > 1e-12 {
		t.Fatalf("p = %v", p)
	}
}

func TestReadSentencesNaN(t *testing.T) {
	in := `[{"id": 1, "text": "a NaN b", "toxicity_score": 2.0, "label": "hate", "target_groups": ["x"], "perplexity": NaN},
	{"id": 2, "text": "c", "toxicity_score": 1.0, "label": "neutral", "target_groups": ["x", "y"], "perplexity": 3.5}]`
	s, err := ReadPerplexities(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 || !math.IsNaN(s[0].Perplexity) || s[0].Text != "a NaN b" || s[1].Perplexity != 3.5 || len(s[1].TargetGroups) != 2 {
		t.Fatalf("%+v", s)
	}
}
