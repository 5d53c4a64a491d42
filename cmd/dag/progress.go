package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	dagclient "github.com/dagproject/dag/client"

	"github.com/dagproject/dag/runs"
)

// progressPrinter shows a run as it goes. On a terminal it redraws one
// line per node in place; elsewhere (logs, CI) it prints a line per change
// and a progress line per running stage every few seconds.
type progressPrinter struct {
	w        io.Writer
	tty      bool
	drawn    int // lines drawn last time (tty)
	last     map[string]runs.Outcome
	lastLine map[string]time.Time
	waits    map[string]string // the Waiting last printed per node
	rate     map[string]rateSample
	start    time.Time
}

type rateSample struct {
	step int64
	at   time.Time
}

func newProgressPrinter(w io.Writer) *progressPrinter {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = os.Getenv("TERM") != "dumb"
		}
	}
	return &progressPrinter{w: w, tty: tty, last: map[string]runs.Outcome{},
		lastLine: map[string]time.Time{}, waits: map[string]string{}, rate: map[string]rateSample{}, start: time.Now()}
}

func (p *progressPrinter) update(v dagclient.View) {
	if p.tty {
		p.redraw(v)
		return
	}
	now := time.Now()
	for _, n := range v.State.Nodes {
		prev, seen := p.last[n.ID]
		if !seen && n.Outcome == runs.Pending {
			p.last[n.ID] = n.Outcome
			continue
		}
		if prev != n.Outcome {
			p.last[n.ID] = n.Outcome
			fmt.Fprintf(p.w, "%6s  %-9s %s%s\n", elapsed(now.Sub(p.start)), n.Outcome, n.ID, detail(n))
		}
		if n.Outcome == runs.Running && n.Waiting != "" && p.waits[n.ID] != n.Waiting {
			p.waits[n.ID] = n.Waiting
			fmt.Fprintf(p.w, "%6s  %-9s %s %s\n", elapsed(now.Sub(p.start)), "waiting", n.ID, n.Waiting)
		}
		if pr, ok := v.Progress[n.ID]; ok && n.Outcome == runs.Running && now.Sub(p.lastLine[n.ID]) >= 5*time.Second {
			p.lastLine[n.ID] = now
			fmt.Fprintf(p.w, "%6s  %-9s %s %s\n", elapsed(now.Sub(p.start)), "progress", n.ID, p.bar(n.ID, pr, 20))
		}
	}
}

func (p *progressPrinter) redraw(v dagclient.View) {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\033[%dA", p.drawn)
	}
	done := 0
	for _, n := range v.State.Nodes {
		if n.Outcome == runs.Executed || n.Outcome == runs.Cached {
			done++
		}
	}
	lines := 1
	fmt.Fprintf(&b, "\033[2K%s  %s  %d/%d done  %s\n", v.State.Study, v.Status, done, len(v.State.Nodes), elapsed(time.Since(p.start)))
	for _, n := range v.State.Nodes {
		line := fmt.Sprintf("  %s %-24s %-9s", mark(n.Outcome), n.ID, n.Outcome)
		if pr, ok := v.Progress[n.ID]; ok && n.Outcome == runs.Running {
			line += " " + p.bar(n.ID, pr, 24)
		} else {
			line += detail(n)
		}
		fmt.Fprintf(&b, "\033[2K%s\n", line)
		lines++
	}
	p.drawn = lines
	io.WriteString(p.w, b.String())
}

// finish prints the closing summary.
func (p *progressPrinter) finish(v dagclient.View) {
	if p.tty {
		p.redraw(v)
	} else {
		p.update(v)
	}
	counts := map[runs.Outcome]int{}
	for _, n := range v.State.Nodes {
		counts[n.Outcome]++
	}
	var parts []string
	for _, o := range []runs.Outcome{runs.Executed, runs.Cached, runs.Failed, runs.Skipped, runs.Cancelled} {
		if counts[o] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[o], o))
		}
	}
	fmt.Fprintf(p.w, "run %s %s in %s: %s\n", v.Ref.RunID, v.Status, elapsed(time.Since(p.start)), strings.Join(parts, ", "))
}

// metricText prints v with 4 significant digits, whole numbers from
// 1,000 up (a throughput reads 11843, not 1.184e+04).
func metricText(v float64) string {
	if math.Abs(v) >= 1000 && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// bar renders step/total, metrics and an ETA from the observed rate.
func (p *progressPrinter) bar(id string, pr runs.Progress, width int) string {
	var b strings.Builder
	if pr.Total > 0 {
		filled := int(float64(width) * float64(pr.Step) / float64(pr.Total))
		if filled > width {
			filled = width
		}
		fmt.Fprintf(&b, "[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pr.Step, pr.Total)
	} else {
		fmt.Fprintf(&b, "step %d", pr.Step)
	}
	for _, k := range sortedMetricNames(pr.Metrics) {
		fmt.Fprintf(&b, " %s %s", k, metricText(pr.Metrics[k]))
	}
	now := time.Now()
	s, ok := p.rate[id]
	if !ok || pr.Step < s.step {
		p.rate[id] = rateSample{step: pr.Step, at: now}
	} else if pr.Total > 0 && pr.Step > s.step {
		perStep := now.Sub(s.at) / time.Duration(pr.Step-s.step)
		fmt.Fprintf(&b, " ETA %s", elapsed(perStep*time.Duration(pr.Total-pr.Step)))
	}
	return b.String()
}

func sortedMetricNames(m map[string]float64) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func mark(o runs.Outcome) string {
	switch o {
	case runs.Executed, runs.Cached:
		return "✓"
	case runs.Running:
		return "▶"
	case runs.Failed:
		return "✗"
	case runs.Skipped, runs.Cancelled:
		return "-"
	}
	return "·"
}

func detail(n runs.NodeState) string {
	switch {
	case n.Error != "":
		return "  " + firstLine(n.Error)
	case n.Resumed > 0:
		return fmt.Sprintf("  (resumed from step %d)", n.Resumed)
	case n.Waiting != "":
		return "  " + n.Waiting
	case !n.Started.IsZero() && !n.Finished.IsZero() && n.Outcome == runs.Executed:
		return "  " + elapsed(n.Finished.Sub(n.Started))
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func elapsed(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// printRun is `dag status`'s table.
func printRun(w io.Writer, v dagclient.View) {
	fmt.Fprintf(w, "run %s  study %s  %s\n", v.Ref.RunID, v.State.Study, v.Status)
	if v.FromRecord {
		fmt.Fprintln(w, "(from its run record in the store)")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tOUTCOME\tKEY\tDETAIL")
	for _, n := range v.State.Nodes {
		key := "-"
		if n.Key != "" {
			key = shortDigest(n.Key.String())
		}
		d := strings.TrimSpace(detail(n))
		if pr, ok := v.Progress[n.ID]; ok && n.Outcome == runs.Running {
			d = fmt.Sprintf("step %d/%d", pr.Step, pr.Total)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.ID, n.Kind, n.Outcome, key, d)
	}
	tw.Flush()
}
