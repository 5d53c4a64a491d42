package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/study"
)

func newPlanCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "plan FILE",
		Short: "Compile a study and show, per node, whether it is cached (HIT), must run (MISS) or waits (BLOCKED)",
		Long: `Compile a study, hash its sources and look every node up in the store.

Per node: HIT (its result is cached), MISS (it must run; the reason says
why, down to the field that changed since the last run) or BLOCKED (its key
cannot be known yet: an input is not produced, or its plugin is missing).
Nothing is executed and nothing is written to the store.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := g.plan(cmd, args[0])
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(res)
			}
			printPlan(g.stdout, res)
			return nil
		},
	}
}

// plan loads, compiles and plans a study file.
func (g *globals) plan(cmd *cobra.Command, file string) (*planner.Result, error) {
	ctx := cmd.Context()
	s, err := study.Load(file)
	if err != nil {
		return nil, err
	}
	p, err := study.Compile(s)
	if err != nil {
		return nil, err
	}
	store, err := g.openStore(ctx)
	if err != nil {
		return nil, err
	}
	memo, err := g.openHashMemo()
	if err != nil {
		return nil, err
	}
	fetch, err := g.fetcher(store)
	if err != nil {
		return nil, err
	}
	res, err := planner.Plan(ctx, p, planner.Options{
		Namespace: g.namespace, Store: store, Plugins: g.plugins(), Hash: memo.HashFunc(), Fetch: fetch,
	})
	if err != nil {
		return nil, err
	}
	// The memo only saves re-hashing; failing to save it loses nothing.
	_ = memo.Save()
	return res, nil
}

func printPlan(w io.Writer, r *planner.Result) {
	fmt.Fprintf(w, "study %s: %d nodes: %d cached, %d to run, %d blocked (plan %s)\n\n",
		r.Study, len(r.Nodes), r.Count(planner.Hit), r.Count(planner.Miss), r.Count(planner.Blocked), shortDigest(r.Plan.String()))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tSTATUS\tKEY\tREASON")
	for _, n := range r.Nodes {
		key := "-"
		if n.Key != nil {
			key = shortDigest(*n.Key)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.ID, n.Kind, strings.ToUpper(string(n.Status)), key, n.Reason)
	}
	tw.Flush()
}

// shortDigest abbreviates sha256:HEX to 12 hex digits for tables.
func shortDigest(s string) string {
	if alg, hex, ok := strings.Cut(s, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return s
}
