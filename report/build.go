package report

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/dagproject/dag/eval"
)

// Row is one model to report: its label and the slug its evaluation node
// IDs end with (eval/TASK@SLUG, safety@SLUG).
type Row struct {
	Label string `json:"label"`
	Model string `json:"model"`
	Slug  string `json:"slug"`
}

// Spec is what a report covers, in the study's order.
type Spec struct {
	Study  string
	Rows   []Row
	Tasks  []string
	Safety bool
	// Curves are the trained nodes whose training logs are charted.
	Curves []CurveSource
	// Reference holds published values to show beside the measured ones,
	// keyed by row label.
	Reference Reference
}

// Document is the report (`dag report --format json`, docs/cli.md).
type Document struct {
	Study      string      `json:"study"`
	Run        string      `json:"run,omitempty"`
	Benchmarks Benchmarks  `json:"benchmarks"`
	Safety     SafetyTable `json:"safety"`
	// Reference is what the study declares as published values; empty
	// ({}) when it declares none.
	Reference Reference `json:"reference"`
	// Curves are the training curves of the trained nodes, in node order.
	Curves []Curve `json:"curves"`
	// Sources names the node each cell came from, by model label then
	// task (or "safety").
	Sources map[string]map[string]string `json:"sources"`
	// Keys are the cache keys of the nodes Sources and Curves name. The
	// report node does not know them; `dag report` fills them in from the
	// run.
	Keys map[string]string `json:"keys,omitempty"`
}

// Benchmarks is the models x tasks table.
type Benchmarks struct {
	Columns []string   `json:"columns"`
	Metrics []string   `json:"metrics"` // the headline metric of each column
	Rows    []BenchRow `json:"rows"`
}

// BenchRow is one model's benchmark values.
type BenchRow struct {
	Model  string             `json:"model"`
	Values map[string]float64 `json:"values"`
	Stderr map[string]float64 `json:"stderr"`
}

// SafetyTable is the models x groups table of SafeNLP scores.
type SafetyTable struct {
	Groups []string    `json:"groups"`
	Rows   []SafetyRow `json:"rows"`
}

// SafetyRow is one model's scores; a group whose harmful and benign
// perplexities do not differ significantly (p > 0.05) is null, as in
// SafeNLP's table, with its p-value kept beside.
type SafetyRow struct {
	Model  string              `json:"model"`
	Values map[string]*float64 `json:"values"`
	P      map[string]float64  `json:"p"`
}

// Build assembles the tables from result.json documents keyed by the node
// ID that produced them, and the curves from metrics.jsonl training logs
// keyed by the trained node's ID. A missing or unreadable result is an
// error: a report with silent holes would mislead. A trained node without
// a log has no curve (logging one is a plugin convention, not a duty); an
// unreadable log is an error.
func Build(spec Spec, results, logs map[string][]byte) (Document, error) {
	doc := Document{
		Study:      spec.Study,
		Benchmarks: Benchmarks{Columns: append([]string{}, spec.Tasks...), Rows: []BenchRow{}},
		Safety:     SafetyTable{Groups: []string{}, Rows: []SafetyRow{}},
		Reference:  spec.Reference,
		Curves:     []Curve{},
		Sources:    map[string]map[string]string{},
	}
	for _, src := range spec.Curves {
		b, ok := logs[src.Node]
		if !ok {
			continue
		}
		c, err := ParseMetrics(b)
		if err != nil {
			return Document{}, fmt.Errorf("report: training log of %s: %w", src.Node, err)
		}
		c.Node, c.Kind = src.Node, src.Kind
		for _, row := range spec.Rows {
			if row.Model == src.Node {
				c.Models = append(c.Models, row.Label)
			}
		}
		doc.Curves = append(doc.Curves, c)
	}
	metrics := map[string]string{}
	groups := map[string]bool{}
	for _, row := range spec.Rows {
		doc.Sources[row.Label] = map[string]string{}
		br := BenchRow{Model: row.Label, Values: map[string]float64{}, Stderr: map[string]float64{}}
		for _, task := range spec.Tasks {
			id := "eval/" + task + "@" + row.Slug
			var r eval.Report
			if err := decode(results, id, &r); err != nil {
				return Document{}, err
			}
			br.Values[task], br.Stderr[task] = r.Value, r.Stderr
			metrics[task] = r.Metric
			doc.Sources[row.Label][task] = id
		}
		doc.Benchmarks.Rows = append(doc.Benchmarks.Rows, br)
		if !spec.Safety {
			continue
		}
		id := "safety@" + row.Slug
		var s eval.SafetyReport
		if err := decode(results, id, &s); err != nil {
			return Document{}, err
		}
		sr := SafetyRow{Model: row.Label, Values: map[string]*float64{}, P: map[string]float64{}}
		for g, score := range s.Groups {
			groups[g] = true
			sr.P[g] = score.P
			if score.Significant {
				v := score.Score
				sr.Values[g] = &v
			}
		}
		doc.Safety.Rows = append(doc.Safety.Rows, sr)
		doc.Sources[row.Label]["safety"] = id
	}
	for _, task := range spec.Tasks {
		doc.Benchmarks.Metrics = append(doc.Benchmarks.Metrics, metrics[task])
	}
	for g := range groups {
		doc.Safety.Groups = append(doc.Safety.Groups, g)
	}
	sort.Strings(doc.Safety.Groups)
	for _, r := range doc.Safety.Rows {
		for _, g := range doc.Safety.Groups {
			if _, ok := r.Values[g]; !ok {
				r.Values[g] = nil
			}
		}
	}
	return doc, nil
}

func decode(results map[string][]byte, id string, v any) error {
	b, ok := results[id]
	if !ok {
		return fmt.Errorf("report: no result from %s", id)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("report: result of %s: %w", id, err)
	}
	return nil
}
