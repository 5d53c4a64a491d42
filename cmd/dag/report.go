package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/report"
	"github.com/dagproject/dag/study"
)

// maxReportSize bounds report.json read into memory.
const maxReportSize = 64 << 20

func newReportCommand(g *globals) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report [RUN]",
		Short: "A run's result tables and charts as md, csv, json or html (the latest run when RUN is omitted)",
		Long: `Renders the tables the study's report node built: benchmarks (models x tasks,
value ± standard error) and safety (models x demographic groups, SafeNLP
scores; non-significant cells marked), the study's reference values beside
them with deltas, training curves per trained node (loss; DPO reward margin
and accuracy), and each value's source node and cache key.
--format html writes one self-contained file: a heatmap, grouped bars and
line charts. Works from a new process any time after the run.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if g.json {
				format = "json"
			}
			render, ok := reportFormats[format]
			if !ok {
				return fmt.Errorf("format %q: want md, csv, json or html: %w", format, errdefs.ErrInvalidArgument)
			}
			doc, err := g.loadReport(ctx, firstArg(args))
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := render(&buf, doc); err != nil {
				return fmt.Errorf("render %s report: %w", format, err)
			}
			if out == "" || out == "-" {
				_, err := g.stdout.Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write report: %w", err)
			}
			fmt.Fprintf(g.stderr, "wrote %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "md", "md, csv, json or html")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	return cmd
}

// reportFormats renders a report in each --format.
var reportFormats = map[string]func(*bytes.Buffer, report.Document) error{
	"md":   func(b *bytes.Buffer, d report.Document) error { return report.WriteMarkdown(b, d) },
	"csv":  func(b *bytes.Buffer, d report.Document) error { return report.WriteCSV(b, d) },
	"html": func(b *bytes.Buffer, d report.Document) error { return report.WriteHTML(b, d) },
	"json": func(b *bytes.Buffer, d report.Document) error {
		enc := json.NewEncoder(b)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(d)
	},
}

// loadReport finds a run ("" = the latest) and reads the report.json its
// report node stored. A run without a finished report node is
// FailedPrecondition.
func (g *globals) loadReport(ctx context.Context, run string) (report.Document, error) {
	var doc report.Document
	v, err := g.runView(ctx, run)
	if err != nil {
		return doc, err
	}
	r := v.ref
	var node *nodeDocument
	d := v.document()
	for i := range d.Nodes {
		if d.Nodes[i].Kind == string(study.KindReport) {
			node = &d.Nodes[i]
			break
		}
	}
	if node == nil {
		return doc, fmt.Errorf("run %s: the study has no report node (it declares no evaluations): %w", r.RunID, errdefs.ErrFailedPrecondition)
	}
	res, ok := node.Outputs[study.OutResult]
	if !ok || res == "" {
		why := node.Outcome
		if node.Error != "" {
			why += ": " + node.Error
		}
		return doc, fmt.Errorf("run %s (%s): report node %s has no result (%s): %w", r.RunID, v.status, node.ID, why, errdefs.ErrFailedPrecondition)
	}
	if err := res.Validate(); err != nil {
		return doc, fmt.Errorf("run %s: report result %q: %v: %w", r.RunID, res, err, errdefs.ErrFailedPrecondition)
	}
	store, err := g.openStore(ctx)
	if err != nil {
		return doc, err
	}
	m, err := artifacts.ReadManifest(ctx, store, res)
	if err != nil {
		return doc, fmt.Errorf("run %s: report result %s: %w", r.RunID, res, err)
	}
	for _, e := range m.Entries {
		if e.Path != report.DocumentFile {
			continue
		}
		b, err := artifacts.ReadAll(ctx, store, e.Digest, maxReportSize)
		if err != nil {
			return doc, fmt.Errorf("run %s: report.json: %w", r.RunID, err)
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return doc, fmt.Errorf("run %s: report.json: %v: %w", r.RunID, err, errdefs.ErrFailedPrecondition)
		}
		doc.Run = r.RunID
		addKeys(&doc, d.Nodes)
		return doc, nil
	}
	return doc, fmt.Errorf("run %s: report result %s holds no report.json: %w", r.RunID, res, errdefs.ErrNotFound)
}

// addKeys records the cache key of every node the report names (its
// cells' sources and its curves), as the run knows them.
func addKeys(doc *report.Document, nodes []nodeDocument) {
	named := map[string]bool{}
	for _, cols := range doc.Sources {
		for _, id := range cols {
			named[id] = true
		}
	}
	for _, c := range doc.Curves {
		named[c.Node] = true
	}
	for _, n := range nodes {
		if named[n.ID] && n.Key != nil && *n.Key != "" {
			if doc.Keys == nil {
				doc.Keys = map[string]string{}
			}
			doc.Keys[n.ID] = *n.Key
		}
	}
}
