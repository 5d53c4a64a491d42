package main

import (
	"context"

	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

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

// runView is everything known about a run at one moment.
type runView struct {
	ref      runRef
	status   string // running completed failed cancelled
	state    runs.State
	progress map[string]runs.Progress // running nodes' heartbeats
	closed   bool
	// record is set when the view comes from the store's run record, as
	// for every named run that has ended.
	record bool
}

func (v runView) document() runDocument {
	d := runDocument{Run: v.ref.RunID, Study: v.state.Study, Status: v.status, Nodes: []nodeDocument{}}
	for _, n := range v.state.Nodes {
		nd := nodeDocument{ID: n.ID, Kind: string(n.Kind), Outcome: string(n.Outcome), Outputs: n.Outputs, Error: n.Error, Resumed: n.Resumed, Waiting: n.Waiting}
		if n.Key != "" {
			k := n.Key.String()
			nd.Key = &k
		}
		if p, ok := v.progress[n.ID]; ok {
			nd.Progress = &p
		}
		d.Nodes = append(d.Nodes, nd)
	}
	return d
}

// view queries a run's state and its running nodes' heartbeats.
func view(ctx context.Context, c client.Client, r runRef) (runView, error) {
	v := runView{ref: r, progress: map[string]runs.Progress{}}
	desc, err := c.DescribeWorkflowExecution(ctx, r.WorkflowID, r.RunID)
	if err != nil {
		return v, fmt.Errorf("run %s: %w", r.RunID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		v.status = "running"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		v.status, v.closed = "completed", true
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		v.status, v.closed = "cancelled", true
	default:
		v.status, v.closed = "failed", true
	}
	dc := converter.GetDefaultDataConverter()
	for _, pa := range desc.GetPendingActivities() {
		node, ok := runs.NodeOfRunActivity(pa.GetActivityId())
		if !ok || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var p runs.Progress
		if dc.FromPayloads(pa.GetHeartbeatDetails(), &p) == nil {
			v.progress[node] = p
		}
	}
	resp, err := c.QueryWorkflow(ctx, r.WorkflowID, r.RunID, runs.QueryState)
	if err != nil {
		// A run whose first task has not run yet has no query handler.
		if v.status == "running" {
			return v, nil
		}
		return v, fmt.Errorf("run %s: state: %w", r.RunID, err)
	}
	if err := resp.Get(&v.state); err != nil {
		return v, err
	}
	return v, nil
}

// follow shows a run's progress until it ends, then prints the result.
func (g *globals) follow(ctx context.Context, c client.Client, r runRef) error {
	p := newProgressPrinter(g.stderr)
	var v runView
	var err error
	for {
		if v, err = view(ctx, c, r); err != nil {
			return err
		}
		p.update(v)
		if v.closed {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped following run %s (it goes on; see dag status %s): %w", r.RunID, r.RunID, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
	p.finish(v)
	if g.json {
		if err := g.printJSON(v.document()); err != nil {
			return err
		}
	}
	if v.status != "completed" {
		return fmt.Errorf("run %s %s: %s", r.RunID, v.status, failedSummary(v))
	}
	return nil
}

func failedSummary(v runView) string {
	for _, n := range v.state.Nodes {
		if n.Outcome == runs.Failed {
			return n.ID + ": " + n.Error
		}
	}
	return "no node failed"
}

// visibilityLag bounds how long a run just started may be missing from
// Temporal's list of runs, which is updated asynchronously.
const visibilityLag = 5 * time.Second

// findRun resolves a RUN argument (a run ID), or the latest run. A run ID
// not listed yet is looked for again for up to visibilityLag, so a run
// named right after `dag submit` printed it is found.
func findRun(ctx context.Context, c client.Client, namespace, run string) (runRef, error) {
	deadline := time.Now().Add(visibilityLag)
	for {
		r, err := listRun(ctx, c, namespace, run)
		if run == "" || !errdefs.IsNotFound(err) || time.Now().After(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return runRef{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// listRun finds a run (or the latest) in Temporal's list of runs. The
// run ID is checked before it enters the visibility query.
func listRun(ctx context.Context, c client.Client, namespace, run string) (runRef, error) {
	query := fmt.Sprintf("WorkflowType = '%s'", runs.StudyWorkflow)
	if run != "" {
		if err := runs.ValidRunID(run); err != nil {
			return runRef{}, err
		}
		query += fmt.Sprintf(" AND RunId = '%s'", run)
	}
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, Query: query, PageSize: 50})
	if err != nil {
		return runRef{}, fmt.Errorf("list runs: %w", err)
	}
	var best *runRef
	var bestStart time.Time
	for _, e := range resp.GetExecutions() {
		start := e.GetStartTime().AsTime()
		if best == nil || start.After(bestStart) {
			best = &runRef{WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId()}
			bestStart = start
		}
	}
	if best == nil {
		if run == "" {
			return runRef{}, fmt.Errorf("no runs yet: %w", errdefs.ErrNotFound)
		}
		return runRef{}, fmt.Errorf("run %s: %w", run, errdefs.ErrNotFound)
	}
	return *best, nil
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
				return g.printJSON(v.document())
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
			if err := sess.client.CancelWorkflow(ctx, r.WorkflowID, r.RunID); err != nil {
				return fmt.Errorf("cancel %s: %w", r.RunID, err)
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
			desc, err := sess.client.DescribeWorkflowExecution(ctx, r.WorkflowID, r.RunID)
			if err != nil {
				return err
			}
			var in runs.StudyInput
			field := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[runs.MemoInput]
			if field == nil || converter.GetDefaultDataConverter().FromPayload(field, &in) != nil {
				return fmt.Errorf("run %s carries no study input: %w", r.RunID, errdefs.ErrFailedPrecondition)
			}
			if desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return fmt.Errorf("run %s is still running: %w", r.RunID, errdefs.ErrFailedPrecondition)
			}
			nr, _, err := startStudy(ctx, sess.client, in)
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
func (g *globals) runView(ctx context.Context, run string) (runView, error) {
	if run != "" {
		if err := runs.ValidRunID(run); err != nil {
			return runView{}, err
		}
		store, err := g.openStore(ctx)
		if err != nil {
			return runView{}, err
		}
		rec, err := runs.Get(ctx, store, g.namespace, run)
		if err == nil {
			return recordView(rec), nil
		}
		if !errdefs.IsNotFound(err) {
			return runView{}, err
		}
	}
	sess, r, err := g.openRun(ctx, run)
	if err != nil {
		if run != "" && errdefs.IsNotFound(err) {
			return runView{}, fmt.Errorf("run %s: not in Temporal, and no run record in the store %s: %w", run, g.store, errdefs.ErrNotFound)
		}
		return runView{}, err
	}
	defer sess.close()
	return view(ctx, sess.client, r)
}

// recordView is the view of an ended run from its record.
func recordView(rec runs.Record) runView {
	return runView{
		ref:      runRef{WorkflowID: rec.Workflow, RunID: rec.Run},
		status:   string(rec.Status),
		state:    rec.State(),
		progress: map[string]runs.Progress{},
		closed:   true,
		record:   true,
	}
}

// openRun connects to Temporal and resolves a RUN argument ("" = latest).
// The caller closes the session.
func (g *globals) openRun(ctx context.Context, run string) (*session, runRef, error) {
	sess, err := g.connect(ctx)
	if err != nil {
		return nil, runRef{}, err
	}
	r, err := findRun(ctx, sess.client, g.namespace, run)
	if err != nil {
		sess.close()
		return nil, runRef{}, err
	}
	return sess, r, nil
}

func firstArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}
