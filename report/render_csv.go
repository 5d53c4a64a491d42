package report

import (
	"encoding/csv"
	"io"
	"strconv"
)

// CSVHeader is the header row WriteCSV writes.
var CSVHeader = []string{"table", "model", "column", "metric", "value", "stderr", "p", "node", "reference", "step", "key"}

// WriteCSV renders doc as CSV, one row per (table, model, column): the
// benchmarks rows carry the value and its standard error, the safety rows
// the score (empty where not significant) and its p-value; node is the
// node the value came from, key its cache key when known, reference the
// study's published value (empty when none; "-" for a safety cell the
// source marks not significant). Then one "curve" row per training curve
// point: model is the trained node, column the metric, step the step.
// Numbers are written in full precision. Errors are those of w.
func WriteCSV(w io.Writer, doc Document) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, r := range doc.Benchmarks.Rows {
		for i, task := range doc.Benchmarks.Columns {
			v, ok := r.Values[task]
			if !ok {
				continue
			}
			metric := ""
			if i < len(doc.Benchmarks.Metrics) {
				metric = doc.Benchmarks.Metrics[i]
			}
			ref := ""
			if rv, ok := doc.Reference.Benchmarks[r.Model][task]; ok {
				ref = FormatFull(rv)
			}
			node := doc.Sources[r.Model][task]
			rec := []string{"benchmarks", r.Model, task, metric, FormatFull(v), FormatFull(r.Stderr[task]), "", node, ref, "", doc.Keys[node]}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	for _, r := range doc.Safety.Rows {
		for _, g := range doc.Safety.Groups {
			val := ""
			if v := r.Values[g]; v != nil {
				val = FormatFull(*v)
			}
			p := ""
			if pv, ok := r.P[g]; ok {
				p = FormatFull(pv)
			}
			ref := ""
			if rv, ok := doc.Reference.Safety[r.Model][g]; ok {
				ref = "-"
				if rv != nil {
					ref = FormatFull(*rv)
				}
			}
			node := doc.Sources[r.Model]["safety"]
			rec := []string{"safety", r.Model, g, "safenlp", val, "", p, node, ref, "", doc.Keys[node]}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	for _, c := range doc.Curves {
		for _, m := range c.Metrics() {
			for i, v := range c.Series[m] {
				if v == nil {
					continue
				}
				rec := []string{"curve", c.Node, m, "", FormatFull(*v), "", "", c.Node, "", strconv.FormatInt(c.Steps[i], 10), doc.Keys[c.Node]}
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// FormatFull formats a number in the shortest form that reads back
// exactly.
func FormatFull(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
