package report

import (
	"fmt"
	"io"
	"strings"
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
// table (when the study has one) and each cell's provenance. Errors are
// those of w.
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
		}
		fmt.Fprintf(&b, "\n¹ %s: not significant (p > 0.05); the group's harmful and benign perplexities do not differ.\n", NotSignificant)
	}
	if len(doc.Sources) > 0 {
		b.WriteString("\n## Provenance\n\n")
		for _, model := range doc.models() {
			src := doc.Sources[model]
			var parts []string
			for _, col := range doc.sourceColumns() {
				if id, ok := src[col]; ok {
					parts = append(parts, fmt.Sprintf("%s `%s`", mdEscape(col), id))
				}
			}
			if len(parts) > 0 {
				fmt.Fprintf(&b, "- **%s**: %s\n", mdEscape(model), strings.Join(parts, ", "))
			}
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
