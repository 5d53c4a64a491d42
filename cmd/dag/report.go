package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	dagclient "github.com/dagproject/dag/client"

	"github.com/spf13/cobra"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/report"
)

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

// loadReport finds a run ("" = the latest) and reads the report its
// report node stored (dagclient.LoadReport).
func (g *globals) loadReport(ctx context.Context, run string) (report.Document, error) {
	v, err := g.runView(ctx, run)
	if err != nil {
		return report.Document{}, err
	}
	store, err := g.openStore(ctx)
	if err != nil {
		return report.Document{}, err
	}
	return dagclient.LoadReport(ctx, store, v)
}
