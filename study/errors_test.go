package study

import (
	"errors"
	"strings"
	"testing"

	"github.com/dagproject/dag/errdefs"
)

// valid is a correct study that the cases below break one way each.
const valid = `version: 1
name: t
model:
  pretrain: {corpus: corpus}
datasets:
  corpus: {source: data/corpus.txt}
  a: {source: data/a.jsonl}
recipes:
  sft: {kind: sft}
pipelines:
  base: {steps: []}
  sft-a: {steps: [{sft: a}]}
`

// refEval appended to valid evaluates one task and opens a reference
// benchmarks table whose first row is line 19.
const refEval = `evaluations:
  tasks:
    arc_challenge: {data: a}
reference:
  source: the paper
  benchmarks:
`

// want is one expected problem: its field path and position.
type want struct {
	path      string
	line, col int
}

func TestStudyErrors(t *testing.T) {
	cases := []struct {
		name string
		spec string
		want []want
	}{
		{"unknown key", strings.Replace(valid, "name: t", "name: t\nnmae: x", 1), []want{{"", 3, 1}}},
		{"unknown nested key", strings.Replace(valid, "{source: data/a.jsonl}", "{source: data/a.jsonl, fromat: jsonl}", 1), []want{{"datasets.a", 7, 29}}},
		{"wrong type", strings.Replace(valid, "version: 1", "version: one", 1), []want{{"version", 1, 10}}},
		{"wrong type list", strings.Replace(valid, "steps: [{sft: a}]", "steps: {sft: a}", 1), []want{{"pipelines.sft-a.steps", 12, 18}}},
		{"undefined dataset", strings.Replace(valid, "{sft: a}", "{sft: nope}", 1), []want{{"pipelines.sft-a.steps[0].sft", 12, 25}}},
		{"undefined corpus", strings.Replace(valid, "{corpus: corpus}", "{corpus: corpos}", 1), []want{{"model.pretrain.corpus", 4, 22}}},
		{"undefined recipe", strings.Replace(valid, "{sft: a}", "{sft: a, recipe: lora}", 1), []want{{"pipelines.sft-a.steps[0].recipe", 12, 36}}},
		{"undefined from", strings.Replace(valid, "sft-a: {steps", "sft-a: {from: nobody, steps", 1), []want{{"pipelines.sft-a.from", 12, 17}}},
		{"recipe kind mismatch", valid + "  dpo-a: {steps: [{dpo: a, recipe: sft}]}\n", []want{{"pipelines.dpo-a.steps[0].recipe", 13, 36}}},
		{"no recipe of kind", valid + "  dpo-a: {steps: [{dpo: a}]}\n", []want{{"pipelines.dpo-a.steps[0]", 13, 19}}},
		{"both sft and dpo", strings.Replace(valid, "{sft: a}", "{sft: a, dpo: a}", 1), []want{{"pipelines.sft-a.steps[0]", 12, 19}}},
		{"cycle", strings.Replace(valid, "  base: {steps: []}\n  sft-a: {steps: [{sft: a}]}\n",
			"  x: {from: y, steps: [{sft: a}]}\n  y: {from: x, steps: [{sft: a}]}\n", 1), []want{{"pipelines.y.from", 12, 13}}},
		{"self cycle", strings.Replace(valid, "sft-a: {steps", "sft-a: {from: sft-a, steps", 1), []want{{"pipelines.sft-a.from", 12, 17}}},
		{"duplicate dataset", strings.Replace(valid, "  a: {source: data/a.jsonl}\n", "  a: {source: data/a.jsonl}\n  a: {source: data/b.jsonl}\n", 1), []want{{"datasets.a", 8, 3}}},
		{"duplicate key", strings.Replace(valid, "name: t", "name: t\nname: u", 1), []want{{"name", 3, 1}}},
		{"duplicate param key", strings.Replace(valid, "{kind: sft}", "{kind: sft, params: {lr: 1, lr: 2}}", 1), []want{{"recipes.sft.params.lr", 9, 36}}},
		{"missing file", strings.Replace(valid, "data/a.jsonl", "data/missing.jsonl", 1), []want{{"datasets.a.source", 7, 15}}},
		{"unknown format", strings.Replace(valid, "data/a.jsonl", "data/ckpt/config.json, format: csv", 1), []want{{"datasets.a.format", 7, 46}}},
		{"missing version", strings.Replace(valid, "version: 1\n", "", 1), []want{{"version", 0, 0}}},
		{"unknown task", valid + "evaluations:\n  tasks:\n    arc: {data: a}\n", []want{{"evaluations.tasks.arc", 15, 5}}},
		{"truthfulqa shots", valid + "evaluations:\n  tasks:\n    truthfulqa_mc2: {data: a, fewshot: a, shots: 5}\n", []want{{"evaluations.tasks.truthfulqa_mc2.shots", 15, 50}}},
		{"hf without revision", strings.Replace(valid, "data/a.jsonl", "hf://datasets/stanfordnlp/SHP/data.jsonl", 1), []want{{"datasets.a.source", 7, 15}}},
		{"reference undefined pipeline", valid + refEval + "    nobody: {arc_challenge: 0.5}\n", []want{{"reference.benchmarks.nobody", 19, 13}}},
		{"reference task not evaluated", valid + refEval + "    sft-a: {mmlu: 0.5}\n", []want{{"reference.benchmarks.sft-a.mmlu", 19, 19}}},
		{"reference percent", valid + refEval + "    sft-a: {arc_challenge: 53.2}\n", []want{{"reference.benchmarks.sft-a.arc_challenge", 19, 28}}},
		{"reference safety without safety", valid + "reference:\n  safety:\n    base: {asian: 0.3}\n", []want{{"reference.safety", 15, 5}}},
		{"invalid yaml", "version: 1\n\tname: x\n", []want{{"", 2, 1}}},
		{"empty", "", []want{{"", 0, 0}}},
		{"several problems at once", strings.Replace(strings.Replace(valid, "version: 1", "version: 2", 1), "{sft: a}", "{sft: b}", 1),
			[]want{{"version", 1, 10}, {"pipelines.sft-a.steps[0].sft", 12, 25}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("study.yaml", []byte(tc.spec), "testdata/golden")
			if err == nil {
				t.Fatal("no error")
			}
			if !errdefs.IsInvalidArgument(err) {
				t.Errorf("error class: got %v, want InvalidArgument", err)
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("not a *study.Error: %v", err)
			}
			if len(se.Problems) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(se.Problems), len(tc.want), err)
			}
			for i, w := range tc.want {
				p := se.Problems[i]
				if p.Path != w.path || p.Pos.Line != w.line || p.Pos.Col != w.col {
					t.Errorf("problem %d: got %s at %d:%d (%v), want %s at %d:%d",
						i, p.Path, p.Pos.Line, p.Pos.Col, p, w.path, w.line, w.col)
				}
				if p.File != "study.yaml" || !strings.HasPrefix(p.Error(), "study.yaml:") {
					t.Errorf("problem %d does not name the file: %v", i, p)
				}
			}
		})
	}
}

func TestLoadMissingStudy(t *testing.T) {
	_, err := Load("testdata/no-such-study.yaml")
	if !errdefs.IsNotFound(err) {
		t.Fatalf("got %v, want NotFound", err)
	}
}
