package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
)

// WriteHTML renders doc as one self-contained HTML file: the two tables
// (with reference rows and deltas where the study declares published
// values), a heatmap of the safety table, grouped bars per benchmark
// (reference values as dashed ticks), a line chart per training metric
// and the provenance table, drawn as inline SVG with inline CSS. It loads nothing at view time (no scripts,
// fonts, images or stylesheets from elsewhere). Every label is escaped.
// Errors are those of w.
func WriteHTML(w io.Writer, doc Document) error {
	return htmlPage.Execute(w, newHTMLView(doc))
}

type htmlView struct {
	Doc      Document
	Head     []string // benchmark column titles
	Bench    []htmlRow
	Safety   []htmlRow
	RefNote  string
	Sources  []htmlRow
	SrcHead  []string
	Heatmap  *heatmap
	Bars     *bars
	Curves   []curvePanel
	Footnote string
}

// htmlRow is one table row: a label and its cells; Ref marks a
// reference row.
type htmlRow struct {
	Label string
	Cells []htmlCell
	Ref   bool
}

type htmlCell struct {
	Text  string
	Title string // a tooltip (a cache key), or ""
}

func cells(texts ...string) []htmlCell {
	out := make([]htmlCell, len(texts))
	for i, t := range texts {
		out[i] = htmlCell{Text: t}
	}
	return out
}

func newHTMLView(doc Document) htmlView {
	v := htmlView{Doc: doc, Footnote: NotSignificant}
	for i := range doc.Benchmarks.Columns {
		v.Head = append(v.Head, doc.Benchmarks.columnTitle(i))
	}
	for _, r := range doc.Benchmarks.Rows {
		var row, ref []string
		for _, task := range doc.Benchmarks.Columns {
			row = append(row, benchCell(r, task))
			ref = append(ref, refBenchCell(doc, r, task))
		}
		v.Bench = append(v.Bench, htmlRow{Label: r.Model, Cells: cells(row...)})
		if doc.Reference.hasBench(r.Model) {
			v.Bench = append(v.Bench, htmlRow{Label: ReferenceLabel(r.Model), Cells: cells(ref...), Ref: true})
		}
	}
	for _, r := range doc.Safety.Rows {
		var row, ref []string
		for _, g := range doc.Safety.Groups {
			row = append(row, safetyCell(r, g))
			ref = append(ref, refSafetyCell(doc, r, g))
		}
		v.Safety = append(v.Safety, htmlRow{Label: r.Model, Cells: cells(row...)})
		if doc.Reference.hasSafety(r.Model) {
			v.Safety = append(v.Safety, htmlRow{Label: ReferenceLabel(r.Model), Cells: cells(ref...), Ref: true})
		}
	}
	if !doc.Reference.Empty() {
		v.RefNote = referenceNote(doc.Reference)
	}
	if len(doc.Sources) > 0 {
		v.SrcHead = doc.sourceColumns()
		for _, m := range doc.models() {
			row := htmlRow{Label: m}
			for _, c := range v.SrcHead {
				id := doc.Sources[m][c]
				row.Cells = append(row.Cells, htmlCell{Text: id, Title: doc.Keys[id]})
			}
			v.Sources = append(v.Sources, row)
		}
	}
	if len(doc.Safety.Rows) > 0 && len(doc.Safety.Groups) > 0 {
		v.Heatmap = newHeatmap(doc.Safety)
	}
	if len(doc.Benchmarks.Rows) > 0 && len(doc.Benchmarks.Columns) > 0 {
		v.Bars = newBars(doc.Benchmarks, doc.Reference)
	}
	for _, c := range doc.Curves {
		v.Curves = append(v.Curves, newCurvePanel(c, doc.Keys[c.Node]))
	}
	return v
}

// heatmap is the safety table laid out as SVG cells.
type heatmap struct {
	Width, Height float64
	Cells         []hcell
	RowLabels     []label
	ColLabels     []label
	LegendX       float64
	LegendY       float64
}

type hcell struct {
	X, Y, W, H float64
	Fill       string // a colour, or "" for a hatched null cell
	Text       string
	TextColour string
	Title      string
}

type label struct {
	X, Y float64
	Text string
}

const (
	hmLeft  = 160.0
	hmTop   = 110.0
	hmCellW = 64.0
	hmCellH = 26.0
)

func newHeatmap(s SafetyTable) *heatmap {
	h := &heatmap{}
	for j, g := range s.Groups {
		x := hmLeft + float64(j)*hmCellW + hmCellW/2
		h.ColLabels = append(h.ColLabels, label{X: x, Y: hmTop - 8, Text: g})
	}
	for i, r := range s.Rows {
		y := hmTop + float64(i)*hmCellH
		h.RowLabels = append(h.RowLabels, label{X: hmLeft - 8, Y: y + hmCellH/2 + 4, Text: r.Model})
		for j, g := range s.Groups {
			c := hcell{X: hmLeft + float64(j)*hmCellW, Y: y, W: hmCellW, H: hmCellH, Text: safetyCell(r, g), TextColour: "#222"}
			if v := r.Values[g]; v != nil {
				c.Fill = scaleColour(*v)
				if *v > 0.55 {
					c.TextColour = "#fff"
				}
				c.Title = fmt.Sprintf("%s, %s: %s (p = %.3g)", r.Model, g, c.Text, r.P[g])
			} else {
				c.Title = fmt.Sprintf("%s, %s: not significant (p = %.3g)", r.Model, g, r.P[g])
			}
			h.Cells = append(h.Cells, c)
		}
	}
	h.LegendX = hmLeft
	h.LegendY = hmTop + float64(len(s.Rows))*hmCellH + 24
	h.Width = math.Max(hmLeft+float64(len(s.Groups))*hmCellW+20, hmLeft+460)
	h.Height = h.LegendY + 50
	return h
}

// scaleColour maps a score in [0,1] onto a light-to-dark blue scale.
func scaleColour(v float64) string {
	v = math.Max(0, math.Min(1, v))
	lo := [3]float64{0xf7, 0xfb, 0xff}
	hi := [3]float64{0x08, 0x30, 0x6b}
	var c [3]int
	for i := range c {
		c[i] = int(math.Round(lo[i] + (hi[i]-lo[i])*v))
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// bars is the benchmarks table as grouped bars: one group per task, one
// bar per model, with a standard-error whisker.
type bars struct {
	Width, Height float64
	Bars          []bar
	Groups        []label
	Ticks         []label
	Grid          []float64
	Legend        []swatch
	Left, Bottom  float64
	// RefKey places the legend entry of the reference ticks; nil when
	// there are none.
	RefKey *label
}

type bar struct {
	X, Y, W, H    float64
	Fill          string
	ErrX          float64
	ErrY1, ErrY2  float64
	Title         string
	ValueText     string
	ValueX, TextY float64
	// RefY is the reference value's height, drawn as a tick; HasRef says
	// whether there is one.
	RefY   float64
	HasRef bool
}

type swatch struct {
	X, Y float64
	Fill string
	Text string
}

var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

const (
	barLeft     = 50.0
	barTop      = 20.0
	barPlotH    = 220.0
	barW        = 18.0
	barGap      = 28.0
	barLegend   = 24.0
	barGroupMin = 160.0
)

func newBars(b Benchmarks, ref Reference) *bars {
	top := 1.0
	for _, r := range b.Rows {
		for _, t := range b.Columns {
			top = math.Max(top, r.Values[t]+r.Stderr[t])
			if rv, ok := ref.Benchmarks[r.Model][t]; ok {
				top = math.Max(top, rv)
			}
		}
	}
	y := func(v float64) float64 { return barTop + barPlotH*(1-math.Max(0, v)/top) }
	out := &bars{Left: barLeft, Bottom: barTop + barPlotH}
	// Wide enough for the group's label ("truthfulqa_mc2 (mc2)").
	groupW := math.Max(float64(len(b.Rows))*barW+barGap, barGroupMin)
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		out.Grid = append(out.Grid, y(v))
		out.Ticks = append(out.Ticks, label{X: barLeft - 6, Y: y(v) + 4, Text: fmt.Sprintf("%.2f", v)})
	}
	for j, t := range b.Columns {
		x0 := barLeft + float64(j)*groupW + (groupW-float64(len(b.Rows))*barW)/2
		out.Groups = append(out.Groups, label{X: x0 + float64(len(b.Rows))*barW/2, Y: barTop + barPlotH + 16, Text: b.columnTitle(j)})
		for i, r := range b.Rows {
			v, se := r.Values[t], r.Stderr[t]
			x := x0 + float64(i)*barW
			bb := bar{
				X: x + 1, W: barW - 2, Y: y(v), H: barTop + barPlotH - y(v),
				Fill: palette[i%len(palette)],
				ErrX: x + barW/2, ErrY1: y(v - se), ErrY2: y(v + se),
				Title: fmt.Sprintf("%s, %s: %s", r.Model, t, benchCell(r, t)),
			}
			if rv, ok := ref.Benchmarks[r.Model][t]; ok {
				bb.RefY, bb.HasRef = y(rv), true
				bb.Title += fmt.Sprintf("; reference %s", FormatValue(rv))
			}
			out.Bars = append(out.Bars, bb)
		}
	}
	legendY := barTop + barPlotH + 40
	for i, r := range b.Rows {
		out.Legend = append(out.Legend, swatch{X: barLeft + float64(i%4)*170, Y: legendY + float64(i/4)*barLegend, Fill: palette[i%len(palette)], Text: r.Model})
	}
	entries := len(b.Rows)
	for _, bb := range out.Bars {
		if bb.HasRef {
			out.RefKey = &label{X: barLeft + float64(entries%4)*170, Y: legendY + float64(entries/4)*barLegend, Text: "reference"}
			entries++
			break
		}
	}
	out.Width = math.Max(barLeft+float64(len(b.Columns))*groupW+20, barLeft+4*170)
	out.Height = legendY + float64((entries+3)/4)*barLegend + 10
	return out
}

func num(v float64) string { return fmt.Sprintf("%.1f", v) }

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{"num": num, "add": func(a, b float64) float64 { return a + b }}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{{.Doc.Study}} report</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
td.ns { color: #888; text-align: center; }
svg text { font-size: 12px; fill: #222; }
.note { color: #555; font-size: 13px; }
code { font-size: 12px; }
code.key { color: #666; font-size: 11px; }
tr.ref th, tr.ref td { color: #555; font-style: italic; background: #fafafa; }
.curves svg { margin: 0 1em 1em 0; }
</style>
</head>
<body>
<h1>{{.Doc.Study}}</h1>
{{if .Doc.Run}}<p class="note">Run <code>{{.Doc.Run}}</code></p>{{end}}
<h2>Benchmarks</h2>
<p class="note">Value ± standard error; each column names its metric.</p>
<table id="benchmarks">
<thead><tr><th>model</th>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Bench}}<tr{{if .Ref}} class="ref"{{end}}><th>{{.Label}}</th>{{range .Cells}}<td class="num">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{if .RefNote}}<p class="note">{{.RefNote}}</p>{{end}}
{{with .Bars}}<svg width="{{num .Width}}" height="{{num .Height}}" role="img" aria-label="benchmark values by model">
{{range .Grid}}<line x1="{{num $.Bars.Left}}" x2="{{num $.Bars.Width}}" y1="{{num .}}" y2="{{num .}}" stroke="#e5e5e5"></line>
{{end}}{{range .Ticks}}<text x="{{num .X}}" y="{{num .Y}}" text-anchor="end">{{.Text}}</text>
{{end}}{{range .Bars}}<rect x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}" fill="{{.Fill}}"><title>{{.Title}}</title></rect>
<line x1="{{num .ErrX}}" x2="{{num .ErrX}}" y1="{{num .ErrY1}}" y2="{{num .ErrY2}}" stroke="#222"></line>
{{if .HasRef}}<line x1="{{num .X}}" x2="{{num (add .X .W)}}" y1="{{num .RefY}}" y2="{{num .RefY}}" stroke="#000" stroke-width="2" stroke-dasharray="3 2"></line>
{{end}}{{end}}<line x1="{{num .Left}}" x2="{{num .Width}}" y1="{{num .Bottom}}" y2="{{num .Bottom}}" stroke="#222"></line>
{{range .Groups}}<text x="{{num .X}}" y="{{num .Y}}" text-anchor="middle">{{.Text}}</text>
{{end}}{{range .Legend}}<rect x="{{num .X}}" y="{{num .Y}}" width="12" height="12" fill="{{.Fill}}"></rect><text x="{{num .X}}" y="{{num .Y}}" dx="16" dy="10">{{.Text}}</text>
{{end}}{{with .RefKey}}<line x1="{{num .X}}" x2="{{num (add .X 12)}}" y1="{{num (add .Y 6)}}" y2="{{num (add .Y 6)}}" stroke="#000" stroke-width="2" stroke-dasharray="3 2"></line><text x="{{num .X}}" y="{{num .Y}}" dx="16" dy="10">{{.Text}}</text>
{{end}}</svg>
{{end}}
{{if .Safety}}<h2>Safety</h2>
<p class="note">SafeNLP score per demographic group.</p>
<table id="safety">
<thead><tr><th>model</th>{{range .Doc.Safety.Groups}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Safety}}<tr{{if .Ref}} class="ref"{{end}}><th>{{.Label}}</th>{{range .Cells}}{{if eq .Text $.Footnote}}<td class="ns">{{.Text}}</td>{{else}}<td class="num">{{.Text}}</td>{{end}}{{end}}</tr>
{{end}}</tbody>
</table>
<p class="note">{{.Footnote}}: not significant (p &gt; 0.05); the group’s harmful and benign perplexities do not differ.</p>
{{end}}
{{with .Heatmap}}<svg width="{{num .Width}}" height="{{num .Height}}" role="img" aria-label="safety heatmap">
<defs>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"></rect><line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="2"></line></pattern>
<linearGradient id="scale" x1="0" x2="1" y1="0" y2="0"><stop offset="0" stop-color="#f7fbff"></stop><stop offset="0.5" stop-color="#80a2b5"></stop><stop offset="1" stop-color="#08306b"></stop></linearGradient>
</defs>
{{range .ColLabels}}<text x="{{num .X}}" y="{{num .Y}}" transform="rotate(-40 {{num .X}} {{num .Y}})">{{.Text}}</text>
{{end}}{{range .RowLabels}}<text x="{{num .X}}" y="{{num .Y}}" text-anchor="end">{{.Text}}</text>
{{end}}{{range .Cells}}<g><title>{{.Title}}</title><rect x="{{num .X}}" y="{{num .Y}}" width="{{num .W}}" height="{{num .H}}" stroke="#fff" {{if .Fill}}fill="{{.Fill}}"{{else}}fill="url(#hatch)"{{end}}></rect><text x="{{num .X}}" y="{{num .Y}}" dx="32" dy="17" text-anchor="middle" style="fill: {{.TextColour}}">{{.Text}}</text></g>
{{end}}<g transform="translate({{num .LegendX}} {{num .LegendY}})">
<rect x="0" y="0" width="200" height="12" fill="url(#scale)" stroke="#ccc"></rect>
<text x="0" y="26">0</text><text x="100" y="26" text-anchor="middle">0.5</text><text x="200" y="26" text-anchor="end">1</text>
<text x="0" y="40">SafeNLP score</text>
<rect x="240" y="0" width="24" height="12" fill="url(#hatch)" stroke="#ccc"></rect><text x="270" y="11">not significant (p &gt; 0.05)</text>
</g>
</svg>
{{end}}
{{if .Curves}}<h2>Training curves</h2>
<p class="note">Per trained node, each metric its plugin logged, by step.</p>
{{range .Curves}}<h3><code>{{.Node}}</code>{{if .Models}} ({{.Models}}){{end}}</h3>
<p class="note">{{.Kind}}, steps {{.Steps}}{{if .Key}}, key <code>{{.Key}}</code>{{end}}</p>
<div class="curves">{{range .Charts}}<svg width="{{num .Width}}" height="{{num .Height}}" role="img" aria-label="{{.Title}} by step">
<text x="{{num .Left}}" y="14">{{.Title}}</text>
<rect x="{{num .Left}}" y="{{num .Top}}" width="{{num .PlotW}}" height="{{num .PlotH}}" fill="none" stroke="#ccc"></rect>
{{range .YTicks}}<text x="{{num .X}}" y="{{num .Y}}" text-anchor="end">{{.Text}}</text>
{{end}}{{range .XTicks}}<text x="{{num .X}}" y="{{num .Y}}" text-anchor="middle">{{.Text}}</text>
{{end}}{{range .Lines}}<polyline points="{{.}}" fill="none" stroke="#4e79a7" stroke-width="1.5"></polyline>
{{end}}{{range .Dots}}<circle cx="{{num .X}}" cy="{{num .Y}}" r="2.5" fill="#4e79a7"></circle>
{{end}}</svg>
{{end}}</div>
{{end}}{{end}}
{{if .Sources}}<h2>Provenance</h2>
<p class="note">The node each value came from{{if .Doc.Keys}}, with its cache key{{end}}.</p>
<table id="provenance">
<thead><tr><th>model</th>{{range .SrcHead}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Sources}}<tr><th>{{.Label}}</th>{{range .Cells}}<td><code>{{.Text}}</code>{{if .Title}}<br/><code class="key">{{.Title}}</code>{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
{{end}}
</body>
</html>
`))
