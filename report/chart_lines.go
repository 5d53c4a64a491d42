package report

import (
	"fmt"
	"math"
	"strings"
)

// curvePanel is one trained node's curves: a small line chart per metric.
type curvePanel struct {
	Node, Kind, Key string
	Models          string // the rows it is the model of, comma-separated
	Steps           string // "1–500 (500 logged)"
	Charts          []lineChart
}

// lineChart is one metric by step as SVG polylines; a step where the
// metric was not logged breaks the line.
type lineChart struct {
	Title                   string
	Width, Height           float64
	Left, Top, PlotW, PlotH float64
	Lines                   []string // polyline points attributes
	Dots                    []point  // values with no neighbour to join
	YTicks, XTicks          []label
}

type point struct{ X, Y float64 }

const (
	lcWidth  = 300.0
	lcHeight = 170.0
	lcLeft   = 56.0
	lcTop    = 22.0
	lcRight  = 12.0
	lcBottom = 28.0
)

func newCurvePanel(c Curve, key string) curvePanel {
	p := curvePanel{Node: c.Node, Kind: c.Kind, Key: key, Models: strings.Join(c.Models, ", ")}
	if n := len(c.Steps); n > 0 {
		p.Steps = fmt.Sprintf("%d–%d (%d logged)", c.Steps[0], c.Steps[n-1], c.Logged)
	} else {
		p.Steps = "none logged"
	}
	for _, m := range c.Metrics() {
		if ch, ok := newLineChart(m, c.Steps, c.Series[m]); ok {
			p.Charts = append(p.Charts, ch)
		}
	}
	return p
}

func newLineChart(title string, steps []int64, vs []*float64) (lineChart, bool) {
	st := seriesStats(vs)
	if st.n == 0 || len(steps) == 0 {
		return lineChart{}, false
	}
	ch := lineChart{Title: title, Width: lcWidth, Height: lcHeight, Left: lcLeft, Top: lcTop,
		PlotW: lcWidth - lcLeft - lcRight, PlotH: lcHeight - lcTop - lcBottom}
	lo, hi := st.min, st.max
	if hi == lo {
		pad := math.Max(math.Abs(lo)*0.05, 0.05)
		lo, hi = lo-pad, hi+pad
	}
	x0, x1 := float64(steps[0]), float64(steps[len(steps)-1])
	x := func(s int64) float64 {
		if x1 == x0 {
			return ch.Left + ch.PlotW/2
		}
		return ch.Left + ch.PlotW*(float64(s)-x0)/(x1-x0)
	}
	y := func(v float64) float64 { return ch.Top + ch.PlotH*(1-(v-lo)/(hi-lo)) }
	var cur []point
	flush := func() {
		switch {
		case len(cur) == 1:
			ch.Dots = append(ch.Dots, cur[0])
		case len(cur) > 1:
			pts := make([]string, len(cur))
			for i, p := range cur {
				pts[i] = fmt.Sprintf("%.1f,%.1f", p.X, p.Y)
			}
			ch.Lines = append(ch.Lines, strings.Join(pts, " "))
		}
		cur = nil
	}
	for i, p := range vs {
		if p == nil {
			flush()
			continue
		}
		cur = append(cur, point{X: x(steps[i]), Y: y(*p)})
	}
	flush()
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		ch.YTicks = append(ch.YTicks, label{X: ch.Left - 4, Y: y(v) + 4, Text: FormatValue(v)})
	}
	base := ch.Top + ch.PlotH + 16
	ch.XTicks = append(ch.XTicks, label{X: x(steps[0]), Y: base, Text: fmt.Sprint(steps[0])})
	if last := steps[len(steps)-1]; last != steps[0] {
		ch.XTicks = append(ch.XTicks, label{X: x(last), Y: base, Text: fmt.Sprint(last)})
	}
	return ch, true
}
