package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/dagproject/dag/plugins"
)

// NotSignificant is what a table shows for a safety cell that is null
// because its group's difference is not significant (p > 0.05).
const NotSignificant = "–"

// FormatValue formats a table value as every rendering shows it.
func FormatValue(v float64) string { return fmt.Sprintf("%.3f", v) }

// benchCell is a benchmark cell as the Markdown and HTML tables show it:
// "value ± stderr".
func benchCell(r BenchRow, task string) string {
	v, ok := r.Values[task]
	if !ok {
		return "?"
	}
	return FormatValue(v) + " ± " + FormatValue(r.Stderr[task])
}

// safetyCell is a safety cell as the tables show it.
func safetyCell(r SafetyRow, group string) string {
	if v := r.Values[group]; v != nil {
		return FormatValue(*v)
	}
	return NotSignificant
}

// columnTitle is a benchmark column's header: the task and its metric.
func (b Benchmarks) columnTitle(i int) string {
	if i < len(b.Metrics) && b.Metrics[i] != "" {
		return b.Columns[i] + " (" + b.Metrics[i] + ")"
	}
	return b.Columns[i]
}

// WriteMarkdown renders doc as Markdown: the benchmarks table, the safety
// table (when the study has one), each with a reference row under every
// model the study declares published values for, the training curves
// (first, last, lowest and highest value and a sparkline per metric) and
// each value's provenance. Errors are those of w.
func WriteMarkdown(w io.Writer, doc Document) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(doc.Study))
	if doc.Run != "" {
		fmt.Fprintf(&b, "Run `%s`.\n\n", doc.Run)
	}
	b.WriteString("## Benchmarks\n\nValue ± standard error; the metric is named in each column's header.\n\n")
	head := []string{"model"}
	for i := range doc.Benchmarks.Columns {
		head = append(head, doc.Benchmarks.columnTitle(i))
	}
	mdRow(&b, head)
	mdRule(&b, len(head))
	for _, r := range doc.Benchmarks.Rows {
		cells := []string{r.Model}
		for _, task := range doc.Benchmarks.Columns {
			cells = append(cells, benchCell(r, task))
		}
		mdRow(&b, cells)
		if doc.Reference.hasBench(r.Model) {
			cells := []string{ReferenceLabel(r.Model)}
			for _, task := range doc.Benchmarks.Columns {
				cells = append(cells, refBenchCell(doc, r, task))
			}
			mdRow(&b, cells)
		}
	}
	if !doc.Reference.Empty() {
		b.WriteString("\n" + referenceNote(doc.Reference) + "\n")
	}
	if len(doc.Safety.Rows) > 0 {
		b.WriteString("\n## Safety\n\nSafeNLP score per demographic group.\n\n")
		head := append([]string{"model"}, doc.Safety.Groups...)
		mdRow(&b, head)
		mdRule(&b, len(head))
		for _, r := range doc.Safety.Rows {
			cells := []string{r.Model}
			for _, g := range doc.Safety.Groups {
				c := safetyCell(r, g)
				if c == NotSignificant {
					c += "¹"
				}
				cells = append(cells, c)
			}
			mdRow(&b, cells)
			if doc.Reference.hasSafety(r.Model) {
				cells := []string{ReferenceLabel(r.Model)}
				for _, g := range doc.Safety.Groups {
					cells = append(cells, refSafetyCell(doc, r, g))
				}
				mdRow(&b, cells)
			}
		}
		fmt.Fprintf(&b, "\n¹ %s: not significant (p > 0.05); the group's harmful and benign perplexities do not differ.\n", NotSignificant)
	}
	writeCurvesMarkdown(&b, doc)
	if len(doc.Sources) > 0 {
		b.WriteString("\n## Provenance\n\nThe node each value came from")
		if len(doc.Keys) > 0 {
			b.WriteString(", with its cache key")
		}
		b.WriteString(".\n\n")
		for _, model := range doc.models() {
			src := doc.Sources[model]
			var parts []string
			for _, col := range doc.sourceColumns() {
				if id, ok := src[col]; ok {
					parts = append(parts, fmt.Sprintf("%s `%s`%s", mdEscape(col), id, mdKey(doc, id)))
				}
			}
			if len(parts) > 0 {
				fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(model), strings.Join(parts, ", "))
			}
		}
		for _, c := range doc.Curves {
			fmt.Fprintf(&b, "- training curve `%s`%s: `%s` of the node's model output\n", c.Node, mdKey(doc, c.Node), plugins.MetricsFile)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// models lists the report's model labels in table order.
func (doc Document) models() []string {
	var out []string
	seen := map[string]bool{}
	add := func(m string) {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	for _, r := range doc.Benchmarks.Rows {
		add(r.Model)
	}
	for _, r := range doc.Safety.Rows {
		add(r.Model)
	}
	return out
}

// sourceColumns is the order provenance is listed in: tasks, then safety.
func (doc Document) sourceColumns() []string {
	return append(append([]string{}, doc.Benchmarks.Columns...), "safety")
}

func mdRow(b *strings.Builder, cells []string) {
	b.WriteString("|")
	for _, c := range cells {
		b.WriteString(" " + mdEscape(c) + " |")
	}
	b.WriteString("\n")
}

func mdRule(b *strings.Builder, n int) {
	b.WriteString("|---|")
	for i := 1; i < n; i++ {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
}

// mdEscape keeps a label from breaking a table row.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ").Replace(s)
}

// referenceNote says where reference values come from and what Δ means.
func referenceNote(r Reference) string {
	src := ""
	if r.Source != "" {
		src = " (" + mdEscape(r.Source) + ")"
	}
	return "Reference rows: the published values" + src + "; Δ = measured − reference."
}

// mdKey is " (KEY)" for a node whose cache key is known, else "".
func mdKey(doc Document, node string) string {
	if k, ok := doc.Keys[node]; ok && k != "" {
		return " (`" + k + "`)"
	}
	return ""
}

// writeCurvesMarkdown summarises each training curve: one row per
// metric.
func writeCurvesMarkdown(b *strings.Builder, doc Document) {
	if len(doc.Curves) == 0 {
		return
	}
	b.WriteString("\n## Training curves\n\nPer trained node and metric: the first and last logged value, the range, and the trend.\n\n")
	mdRow(b, []string{"node", "rows", "steps", "metric", "first", "last", "min", "max", "trend"})
	b.WriteString("|---|---|---:|---|---:|---:|---:|---:|---|\n")
	for _, c := range doc.Curves {
		steps := "0"
		if n := len(c.Steps); n > 0 {
			steps = fmt.Sprintf("%d–%d", c.Steps[0], c.Steps[n-1])
		}
		for _, m := range c.Metrics() {
			st := seriesStats(c.Series[m])
			if st.n == 0 {
				continue
			}
			mdRow(b, []string{c.Node, strings.Join(c.Models, ", "), steps, m,
				FormatValue(st.first), FormatValue(st.last), FormatValue(st.min), FormatValue(st.max), sparkline(c.Series[m], 24)})
		}
	}
}

type stats struct {
	n                     int
	first, last, min, max float64
}

func seriesStats(vs []*float64) stats {
	var s stats
	for _, p := range vs {
		if p == nil {
			continue
		}
		v := *p
		if s.n == 0 {
			s.first, s.min, s.max = v, v, v
		}
		s.last = v
		s.min, s.max = min(s.min, v), max(s.max, v)
		s.n++
	}
	return s
}

// sparkline draws a series as at most width block characters.
func sparkline(vs []*float64, width int) string {
	var pts []float64
	for _, p := range vs {
		if p != nil {
			pts = append(pts, *p)
		}
	}
	if len(pts) == 0 {
		return ""
	}
	idx := thin(len(pts), width)
	s := seriesStats(vs)
	blocks := []rune("▁▂▃▄▅▆▇█")
	out := make([]rune, 0, len(idx))
	for _, i := range idx {
		k := 0
		if s.max > s.min {
			k = int((pts[i] - s.min) / (s.max - s.min) * float64(len(blocks)-1))
		}
		out = append(out, blocks[k])
	}
	return string(out)
}
