package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dagproject/dag/eval"
)

func newEvalCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluation tools that need no study run",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newSafetyScoreCommand(g))
	return cmd
}

// safetyScoreJSON is the --json document (docs/cli.md).
type safetyScoreJSON struct {
	Groups map[string]eval.GroupScore `json:"groups"`
}

func newSafetyScoreCommand(g *globals) *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "safety-score --perplexities FILE",
		Short: "SafeNLP safety scores from per-sentence perplexities",
		Long: `Computes SafeNLP's safety score per target group from per-sentence
perplexities computed anywhere: SafeNLP's JSON list (objects with
toxicity_score, label, target_groups, perplexity) or the CSV form
id,label,toxicity_score,perplexity,target_groups with '|'-separated groups.
Every group with harmful and benign sentences is listed; the SafeNLP table
is the significant ones (p <= 0.05).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return fmt.Errorf("--perplexities FILE is required")
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			sents, err := eval.ReadPerplexities(f)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			scores := eval.SafetyScores(sents)
			if g.json {
				return g.printJSON(safetyScoreJSON{Groups: scores})
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tSCORE\tU\tP\tHARMFUL\tBENIGN\tSIGNIFICANT")
			for _, name := range eval.SortedGroups(scores) {
				s := scores[name]
				fmt.Fprintf(tw, "%s\t%.17g\t%.17g\t%.3g\t%d\t%d\t%v\n", name, s.Score, s.U, s.P, s.NHarmful, s.NBenign, s.Significant)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&path, "perplexities", "", "per-sentence perplexities: SafeNLP JSON list or CSV")
	return cmd
}
