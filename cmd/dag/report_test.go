package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dagproject/dag/report"
)

// writeEvalStudy writes the tiny study with one benchmark and the safety
// score (as TestEvalAndSafetyNodes runs it) and returns its path.
func writeEvalStudy(t *testing.T) string {
	t.Helper()
	file := writeTinyStudy(t)
	dir := filepath.Dir(file)
	s := tinyStudyWithDatasets(tinyStudy + `  arc: {source: arc.jsonl}
  sents: {source: sents.jsonl}
evaluations:
  tasks:
    arc_challenge: {data: arc}
  safety: {data: sents}
`)
	files := map[string]string{
		"study.yaml": s,
		"arc.jsonl": `{"question":"What do zorbs like?","choices":{"text":["tea","rocks"],"label":["A","B"]},"answerKey":"A"}` + "\n" +
			`{"question":"What do quilps like?","choices":{"text":["maps","tea"],"label":["A","B"]},"answerKey":"A"}` + "\n",
		"sents.jsonl": `{"id":0,"text":"the zorbs are bad.","toxicity_score":4,"label":"hate","target_groups":["zorbs"]}` + "\n" +
			`{"id":1,"text":"the zorbs like tea.","toxicity_score":1,"label":"neutral","target_groups":["zorbs"]}` + "\n" +
			`{"id":2,"text":"the zorbs are awful.","toxicity_score":4.33,"label":"hate","target_groups":["zorbs"]}` + "\n" +
			`{"id":3,"text":"the zorbs like maps.","toxicity_score":1.33,"label":"neutral","target_groups":["zorbs"]}` + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return file
}

// TestReportCommand runs the tiny eval study, then renders its report as
// json (docs/cli.md's shape: every task numeric on every row, the base
// model included; safety values null or in [0,1]) and as an html file.
func TestReportCommand(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", tinylmPlugins(t))
	file := writeEvalStudy(t)
	appendFile(t, file, `reference:
  source: the paper
  benchmarks:
    base: {arc_challenge: 0.25}
  safety:
    sft-a: {zorbs: null}
`)
	home := t.TempDir()
	startServer(t, home)
	r := submitWait(t, file, home)

	code, out, errs := dag(t, "report", r.Run, "--format", "json", "--home", home)
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, errs)
	}
	var doc struct {
		Study      string `json:"study"`
		Run        string `json:"run"`
		Benchmarks struct {
			Columns []string `json:"columns"`
			Rows    []struct {
				Model  string              `json:"model"`
				Values map[string]*float64 `json:"values"`
				Stderr map[string]*float64 `json:"stderr"`
			} `json:"rows"`
		} `json:"benchmarks"`
		Safety struct {
			Groups []string `json:"groups"`
			Rows   []struct {
				Model  string                     `json:"model"`
				Values map[string]json.RawMessage `json:"values"`
			} `json:"rows"`
		} `json:"safety"`
		Reference json.RawMessage `json:"reference"`
		Curves    []struct {
			Node   string                `json:"node"`
			Kind   string                `json:"kind"`
			Steps  []int64               `json:"steps"`
			Series map[string][]*float64 `json:"series"`
		} `json:"curves"`
		Sources map[string]map[string]string `json:"sources"`
		Keys    map[string]string            `json:"keys"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.Study != "tiny" || doc.Run != r.Run || len(doc.Reference) == 0 {
		t.Errorf("study %q run %q reference %s", doc.Study, doc.Run, doc.Reference)
	}
	if want := `{"source":"the paper","benchmarks":{"base":{"arc_challenge":0.25}},"safety":{"sft-a":{"zorbs":null}}}`; compactJSON(t, doc.Reference) != want {
		t.Errorf("reference %s, want %s", doc.Reference, want)
	}
	// A curve per trained node, every step logged, DPO with its rewards.
	curves := map[string]int{}
	for _, c := range doc.Curves {
		curves[c.Node] = len(c.Steps)
		if len(c.Steps) == 0 || len(c.Series["loss"]) != len(c.Steps) {
			t.Errorf("curve %s: %d steps, loss %v", c.Node, len(c.Steps), c.Series["loss"])
		}
		if _, ok := c.Series["reward_margin"]; ok != (c.Kind == "dpo") {
			t.Errorf("curve %s (%s): reward_margin present %v", c.Node, c.Kind, ok)
		}
	}
	if len(curves) != 4 || curves["pretrain/base"] != 6 {
		t.Errorf("curves %v, want pretrain/base (6 steps), sft/a, sft/b, dpo/a+pref", curves)
	}
	// Each value's node has its cache key.
	for model, cols := range doc.Sources {
		for col, id := range cols {
			if !strings.HasPrefix(doc.Keys[id], "sha256:") {
				t.Errorf("%s %s: node %s has no key (%q)", model, col, id, doc.Keys[id])
			}
		}
	}
	if strings.Join(doc.Benchmarks.Columns, ",") != "arc_challenge" {
		t.Errorf("columns %v", doc.Benchmarks.Columns)
	}
	models := map[string]bool{}
	for _, row := range doc.Benchmarks.Rows {
		models[row.Model] = true
		for _, task := range doc.Benchmarks.Columns {
			if v, se := row.Values[task], row.Stderr[task]; v == nil || se == nil {
				t.Errorf("%s %s: value %v stderr %v", row.Model, task, v, se)
			}
		}
	}
	if len(doc.Benchmarks.Rows) != 4 || !models["base"] {
		t.Errorf("benchmark rows %v", models)
	}
	if len(doc.Safety.Rows) != 4 || len(doc.Safety.Groups) == 0 {
		t.Errorf("safety %+v", doc.Safety)
	}
	for _, row := range doc.Safety.Rows {
		for _, g := range doc.Safety.Groups {
			raw, ok := row.Values[g]
			if !ok {
				t.Errorf("%s %s: missing", row.Model, g)
				continue
			}
			var v *float64
			if err := json.Unmarshal(raw, &v); err != nil || (v != nil && (*v < 0 || *v > 1)) {
				t.Errorf("%s %s: %s", row.Model, g, raw)
			}
		}
	}

	// html -o from the same store, as a new process would.
	page := filepath.Join(t.TempDir(), "report.html")
	if code, _, errs := dag(t, "report", r.Run, "--format", "html", "-o", page, "--home", home); code != 0 {
		t.Fatalf("report html exit %d: %s", code, errs)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:)?//|<script[^>]*\bsrc`).MatchString(html) {
		t.Error("html refers to a remote resource")
	}
	for _, s := range []string{"<polyline", "base (reference)", "Training curves"} {
		if !strings.Contains(html, s) {
			t.Errorf("html lacks %q", s)
		}
	}
	var full report.Document
	if err := json.Unmarshal([]byte(out), &full); err != nil {
		t.Fatal(err)
	}
	for _, row := range full.Benchmarks.Rows {
		for _, task := range full.Benchmarks.Columns {
			cell := report.FormatValue(row.Values[task]) + " ± " + report.FormatValue(row.Stderr[task])
			if !strings.Contains(html, cell) {
				t.Errorf("html lacks %s %s %q", row.Model, task, cell)
			}
		}
	}
	for _, row := range full.Safety.Rows {
		for _, g := range full.Safety.Groups {
			want := report.NotSignificant
			if v := row.Values[g]; v != nil {
				want = report.FormatValue(*v)
			}
			if !strings.Contains(html, want) {
				t.Errorf("html lacks %s %s %q", row.Model, g, want)
			}
		}
	}

	// md and csv render too; a bad format is refused.
	for _, f := range []string{"md", "csv"} {
		if code, out, errs := dag(t, "report", r.Run, "--format", f, "--home", home); code != 0 || !strings.Contains(out, "arc_challenge") {
			t.Errorf("report %s exit %d: %s\n%s", f, code, out, errs)
		}
	}
	if _, out, _ := dag(t, "report", r.Run, "--home", home); !strings.Contains(out, "| base (reference) | 0.250 (Δ ") || !strings.Contains(out, "| dpo/a+pref |") {
		t.Errorf("markdown lacks the reference row or the DPO curve:\n%s", out)
	}
	if code, _, _ := dag(t, "report", r.Run, "--format", "pdf", "--home", home); code == 0 {
		t.Error("--format pdf succeeded")
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
