package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
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
		Reference: map[string]any{},
		Sources: map[string]map[string]string{
			"base":            {"arc_challenge": "eval/arc_challenge@base", "truthfulqa_mc2": "eval/truthfulqa_mc2@base", "safety": "safety@base"},
			"SFT <b>&\"x|y\"": {"arc_challenge": "eval/arc_challenge@sft", "truthfulqa_mc2": "eval/truthfulqa_mc2@sft", "safety": "safety@sft"},
		},
	}
}

// tableValues is every value as the tables show it.
func tableValues(doc Document) []string {
	var out []string
	for _, r := range doc.Benchmarks.Rows {
		for _, t := range doc.Benchmarks.Columns {
			out = append(out, benchCell(r, t))
		}
	}
	for _, r := range doc.Safety.Rows {
		for _, g := range doc.Safety.Groups {
			if v := r.Values[g]; v != nil {
				out = append(out, FormatValue(*v))
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
	for _, s := range []string{"arc_challenge (acc_norm)", NotSignificant + "¹", "p > 0.05", "`eval/arc_challenge@sft`", "`safety@base`", `SFT <b>&"x\|y"`} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q\n%s", s, md)
		}
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
	if len(recs) != 1+4+4 {
		t.Fatalf("%d records: %v", len(recs), recs)
	}
	got := map[string][]string{}
	for _, r := range recs[1:] {
		got[r[0]+"/"+r[1]+"/"+r[2]] = r
	}
	for _, r := range doc.Benchmarks.Rows {
		for _, task := range doc.Benchmarks.Columns {
			rec := got["benchmarks/"+r.Model+"/"+task]
			if rec == nil || rec[4] != FormatFull(r.Values[task]) || rec[5] != FormatFull(r.Stderr[task]) || rec[7] != doc.Sources[r.Model][task] {
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
	// Values appear as the tables show them (html/template leaves ± and –
	// as they are).
	for _, v := range tableValues(doc) {
		if !strings.Contains(page, v) {
			t.Errorf("html lacks %q", v)
		}
	}
	for _, s := range []string{"<svg", "url(#hatch)", "linearGradient", NotSignificant, "eval/truthfulqa_mc2@sft", "tiny &lt;study&gt;"} {
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
