package main

import (
	"context"

	dagclient "github.com/dagproject/dag/client"

	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/runs"
)

// runDocument is `dag submit --wait --json` and `dag status --json`.
type runDocument struct {
	Run    string         `json:"run"`
	Study  string         `json:"study"`
	Status string         `json:"status"`
	Nodes  []nodeDocument `json:"nodes"`
}

type nodeDocument struct {
	ID       string                   `json:"id"`
	Kind     string                   `json:"kind"`
	Key      *string                  `json:"key"`
	Outcome  string                   `json:"outcome"`
	Outputs  map[string]digest.Digest `json:"outputs"`
	Error    string                   `json:"error,omitempty"`
	Resumed  int64                    `json:"resumed_from_step,omitempty"`
	Waiting  string                   `json:"waiting,omitempty"`
	Progress *runs.Progress           `json:"progress,omitempty"`
}

// document is a view as `dag status --json` prints it.
func document(v dagclient.View) runDocument {
	d := runDocument{Run: v.Ref.RunID, Study: v.State.Study, Status: string(v.Status), Nodes: []nodeDocument{}}
	for _, n := range v.State.Nodes {
		nd := nodeDocument{ID: n.ID, Kind: string(n.Kind), Outcome: string(n.Outcome), Outputs: n.Outputs, Error: n.Error, Resumed: n.Resumed, Waiting: n.Waiting}
		if n.Key != "" {
			k := n.Key.String()
			nd.Key = &k
		}
		if p, ok := v.Progress[n.ID]; ok {
			nd.Progress = &p
		}
		d.Nodes = append(d.Nodes, nd)
	}
	return d
}

// follow shows a run's progress until it ends, then prints the result.
func (g *globals) follow(ctx context.Context, c client.Client, r dagclient.RunRef) error {
	p := newProgressPrinter(g.stderr)
	v, err := dagclient.New(c, g.namespace).Follow(ctx, r, p.update)
	if err != nil {
		return err
	}
	p.finish(v)
	if g.json {
		if err := g.printJSON(document(v)); err != nil {
			return err
		}
	}
	if v.Status != runs.StatusCompleted {
		return fmt.Errorf("run %s %s: %s", r.RunID, v.Status, v.FirstFailure())
	}
	return nil
}

func newStatusCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "status [RUN]",
		Short: "Per-node state of a run (the latest when RUN is omitted)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := g.runView(cmd.Context(), firstArg(args))
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(document(v))
			}
			printRun(g.stdout, v)
			return nil
		},
	}
}

func newCancelCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel RUN",
		Short: "Cancel a run; running stages are stopped, nothing partial is cached",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, r, err := g.openRun(ctx, args[0])
			if err != nil {
				return err
			}
			defer sess.close()
			if err := dagclient.New(sess.client, g.namespace).Cancel(ctx, r); err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "cancel requested for run %s\n", r.RunID)
			if g.json {
				return g.printJSON(map[string]string{"run": r.RunID, "status": "cancelling"})
			}
			return nil
		},
	}
}

func newRetryCommand(g *globals) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "retry RUN",
		Short: "Run a finished run's study again: failed nodes re-run, cached ones stay cached",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			sess, r, err := g.openRun(ctx, args[0])
			if err != nil {
				return err
			}
			defer sess.close()
			nr, in, err := dagclient.New(sess.client, g.namespace).Retry(ctx, r)
			if err != nil {
				return err
			}
			g.announce(nr, in.Study, false, sess.ui)
			if wait {
				return g.follow(ctx, sess.client, nr)
			}
			if g.json {
				return g.printJSON(map[string]string{"run": nr.RunID, "status": "running"})
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the new run until it ends")
	return cmd
}

// runView finds a run ("" = the latest) and views it. A named run that
// has ended is read from the run record the store keeps (Temporal drops
// closed runs after the server's retention, and the record needs no
// server); any other from Temporal.
func (g *globals) runView(ctx context.Context, run string) (dagclient.View, error) {
	if run != "" {
		if err := runs.ValidRunID(run); err != nil {
			return dagclient.View{}, err
		}
		store, err := g.openStore(ctx)
		if err != nil {
			return dagclient.View{}, err
		}
		v, err := dagclient.RecordView(ctx, store, g.namespace, run)
		if err == nil || !errdefs.IsNotFound(err) {
			return v, err
		}
	}
	sess, r, err := g.openRun(ctx, run)
	if err != nil {
		if run != "" && errdefs.IsNotFound(err) {
			return dagclient.View{}, fmt.Errorf("run %s: not in Temporal, and no run record in the store %s: %w", run, g.store, errdefs.ErrNotFound)
		}
		return dagclient.View{}, err
	}
	defer sess.close()
	return dagclient.New(sess.client, g.namespace).View(ctx, r)
}

// openRun connects to Temporal and resolves a RUN argument ("" = latest).
// The caller closes the session.
func (g *globals) openRun(ctx context.Context, run string) (*session, dagclient.RunRef, error) {
	sess, err := g.connect(ctx)
	if err != nil {
		return nil, dagclient.RunRef{}, err
	}
	r, err := dagclient.New(sess.client, g.namespace).Find(ctx, run)
	if err != nil {
		sess.close()
		return nil, dagclient.RunRef{}, err
	}
	return sess, r, nil
}

func firstArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}
