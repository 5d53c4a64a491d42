package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"regexp"
	"strings"
	"testing"
)

func ptr(v float64) *float64 { return &v }

// sampleDoc is a hand-made report with a label that needs escaping and a
// null (non-significant) safety cell.
func sampleDoc() Document {
	return Document{
		Study: "tiny <study>",
		Run:   "run-1",
		Benchmarks: Benchmarks{
			Columns: []string{"arc_challenge", "truthfulqa_mc2"},
			Metrics: []string{"acc_norm", "mc2"},
			Rows: []BenchRow{
				{Model: "base", Values: map[string]float64{"arc_challenge": 0.25, "truthfulqa_mc2": 0.4125}, Stderr: map[string]float64{"arc_challenge": 0.0433, "truthfulqa_mc2": 0.021}},
				{Model: "SFT <b>&\"x|y\"", Values: map[string]float64{"arc_challenge": 0.3125, "truthfulqa_mc2": 0.5}, Stderr: map[string]float64{"arc_challenge": 0.05, "truthfulqa_mc2": 0.0123}},
			},
		},
		Safety: SafetyTable{
			Groups: []string{"asian", "women"},
			Rows: []SafetyRow{
				{Model: "base", Values: map[string]*float64{"asian": ptr(0.61), "women": nil}, P: map[string]float64{"asian": 0.01, "women": 0.4}},
				{Model: "SFT <b>&\"x|y\"", Values: map[string]*float64{"asian": ptr(0.125), "women": ptr(0.875)}, P: map[string]float64{"asian": 0.02, "women": 0.001}},
			},
		},
		Reference: Reference{
			Source:     "A <paper>",
			Benchmarks: map[string]map[string]float64{"base": {"arc_challenge": 0.2625, "truthfulqa_mc2": 0.45}},
			Safety:     map[string]map[string]*float64{"SFT <b>&\"x|y\"": {"asian": ptr(0.1), "women": nil}},
		},
		Curves: []Curve{
			{Node: "sft/a", Kind: "sft", Models: []string{"SFT <b>&\"x|y\""}, Steps: []int64{1, 2, 3}, Logged: 3,
				Series: map[string][]*float64{"loss": {ptr(2.5), ptr(2), ptr(1.75)}}},
			{Node: "dpo/a+b", Kind: "dpo", Steps: []int64{10, 20}, Logged: 2,
				Series: map[string][]*float64{"loss": {ptr(0.69), ptr(0.5)}, "reward_accuracy": {nil, ptr(0.75)}, "reward_margin": {ptr(0), ptr(0.25)}}},
		},
		Keys: map[string]string{"eval/arc_challenge@base": "sha256:0123456789abcdef", "sft/a": "sha256:feedfacefeedface"},
		Sources: map[string]map[string]string{
			"base":            {"arc_challenge": "eval/arc_challenge@base", "truthfulqa_mc2": "eval/truthfulqa_mc2@base", "safety": "safety@base"},
			"SFT <b>&\"x|y\"": {"arc_challenge": "eval/arc_challenge@sft", "truthfulqa_mc2": "eval/truthfulqa_mc2@sft", "safety": "safety@sft"},
		},
	}
}

// tableValues is every value as the tables show it, the reference cells
// with their deltas included.
func tableValues(doc Document) []string {
	var out []string
	for _, r := range doc.Benchmarks.Rows {
		for _, t := range doc.Benchmarks.Columns {
			out = append(out, benchCell(r, t))
			if c := refBenchCell(doc, r, t); c != "" {
				out = append(out, c)
			}
		}
	}
	for _, r := range doc.Safety.Rows {
		for _, g := range doc.Safety.Groups {
			if v := r.Values[g]; v != nil {
				out = append(out, FormatValue(*v))
			}
			if c := refSafetyCell(doc, r, g); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

func TestJSONShape(t *testing.T) {
	b, err := json.Marshal(sampleDoc())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"study", "run", "benchmarks", "safety", "reference"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q in %s", k, b)
		}
	}
	if !strings.Contains(string(b), `"women":null`) {
		t.Errorf("non-significant cell is not null: %s", b)
	}
}

func TestReportMarkdown(t *testing.T) {
	doc := sampleDoc()
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, doc); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, v := range tableValues(doc) {
		if !strings.Contains(md, v) {
			t.Errorf("markdown lacks %q\n%s", v, md)
		}
	}
	for _, s := range []string{"arc_challenge (acc_norm)", NotSignificant + "¹", "p > 0.05", "`eval/arc_challenge@sft`", "`safety@base`", `SFT <b>&"x\|y"`,
		// reference rows with deltas (measured − reference), and the source
		"| base (reference) | 0.263 (Δ -0.013) | 0.450 (Δ -0.038) |", "0.100 (Δ +0.025)", "A <paper>",
		// curves: first, last, min, max per metric, and their nodes' keys
		"| sft/a | SFT <b>&\"x\\|y\" | 1–3 | loss | 2.500 | 1.750 | 1.750 | 2.500 |", "| dpo/a+b |  | 10–20 | reward_accuracy | 0.750 | 0.750 |",
		"`eval/arc_challenge@base` (`sha256:0123456789abcdef`)", "training curve `sft/a` (`sha256:feedfacefeedface`)"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q\n%s", s, md)
		}
	}
	if !strings.Contains(md, "## Training curves") || strings.Index(md, "| loss |") > strings.Index(md, "| dpo/a+b |  | 10–20 | reward_accuracy") {
		t.Errorf("curves: loss first\n%s", md)
	}
	// Every table row has as many cells as its header.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| base") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") < 3 {
			t.Errorf("short row %q", line)
		}
	}
}

func TestReportCSV(t *testing.T) {
	doc := sampleDoc()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, doc); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+4+4+3+2+1+2 {
		t.Fatalf("%d records: %v", len(recs), recs)
	}
	got := map[string][]string{}
	for _, r := range recs[1:] {
		got[r[0]+"/"+r[1]+"/"+r[2]] = r
	}
	for _, r := range doc.Benchmarks.Rows {
		for _, task := range doc.Benchmarks.Columns {
			rec := got["benchmarks/"+r.Model+"/"+task]
			ref := ""
			if v, ok := doc.Reference.Benchmarks[r.Model][task]; ok {
				ref = FormatFull(v)
			}
			if rec == nil || rec[4] != FormatFull(r.Values[task]) || rec[5] != FormatFull(r.Stderr[task]) || rec[7] != doc.Sources[r.Model][task] ||
				rec[8] != ref || rec[10] != doc.Keys[rec[7]] {
				t.Errorf("%s %s: %v", r.Model, task, rec)
			}
		}
	}
	for _, r := range doc.Safety.Rows {
		for _, g := range doc.Safety.Groups {
			rec := got["safety/"+r.Model+"/"+g]
			want := ""
			if v := r.Values[g]; v != nil {
				want = FormatFull(*v)
			}
			if rec == nil || rec[4] != want || rec[6] != FormatFull(r.P[g]) || rec[7] != doc.Sources[r.Model]["safety"] {
				t.Errorf("%s %s: %v", r.Model, g, rec)
			}
		}
	}
}

func TestReportHTMLSelfContained(t *testing.T) {
	doc := sampleDoc()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, doc); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	checkHTMLSelfContained(t, page)
	// Values appear as the tables show them, once character references
	// are decoded (html/template writes "+" as "&#43;").
	text := html.UnescapeString(page)
	for _, v := range tableValues(doc) {
		if !strings.Contains(text, v) {
			t.Errorf("html lacks %q", v)
		}
	}
	// Every curve point is drawn: one polyline vertex per logged value.
	points := 0
	for _, m := range regexp.MustCompile(`<polyline points="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		points += len(strings.Fields(m[1]))
	}
	points += strings.Count(page, "<circle ")
	if points != 3+2+1+2 {
		t.Errorf("%d curve points drawn, want 8 (a lone one as a dot)", points)
	}
	for _, s := range []string{"<svg", "url(#hatch)", "linearGradient", NotSignificant, "eval/truthfulqa_mc2@sft", "tiny &lt;study&gt;",
		"<polyline", "stroke-dasharray", "base (reference)", "A &lt;paper&gt;", "sha256:feedfacefeedface", "reward_margin"} {
		if !strings.Contains(page, s) {
			t.Errorf("html lacks %q", s)
		}
	}
	if strings.Contains(page, "<b>&") {
		t.Error("a model label is not escaped")
	}
}

// checkHTMLSelfContained fails t unless page parses as HTML and loads
// nothing from elsewhere at view time.
func checkHTMLSelfContained(t *testing.T, page string) {
	t.Helper()
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//`).MatchString(page) {
		t.Error("html refers to a remote resource")
	}
	if regexp.MustCompile(`(?i)<script[^>]*\bsrc`).MatchString(page) || regexp.MustCompile(`(?i)<link[^>]*stylesheet`).MatchString(page) || regexp.MustCompile(`(?i)@import|@font-face`).MatchString(page) {
		t.Error("html loads a script, stylesheet or font")
	}
	d := xml.NewDecoder(strings.NewReader(strings.TrimPrefix(page, "<!DOCTYPE html>")))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("html does not parse: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1] != e.Name.Local {
				t.Fatalf("html: unbalanced </%s> (open %v)", e.Name.Local, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Fatalf("html: unclosed %v", stack)
	}
}
