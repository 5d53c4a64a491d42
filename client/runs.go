package client

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/runs"
)

// RunRef names one run: Temporal's workflow ID and run ID.
type RunRef struct {
	WorkflowID string
	RunID      string
}

// View is everything known about a run at one moment.
type View struct {
	Ref    RunRef
	Status runs.Status
	State  runs.State
	// Progress holds running nodes' last heartbeats, by node ID.
	Progress map[string]runs.Progress
	// Closed is set once the run has ended.
	Closed bool
	// FromRecord is set when the view comes from the store's run record.
	FromRecord bool
}

// FirstFailure is the first failed node and its error, for messages.
func (v View) FirstFailure() string {
	for _, n := range v.State.Nodes {
		if n.Outcome == runs.Failed {
			return n.ID + ": " + n.Error
		}
	}
	return "no node failed"
}

// Client works with runs on one Temporal namespace.
type Client struct {
	temporal  tclient.Client
	namespace string
}

// New returns a Client over a connected Temporal client.
func New(c tclient.Client, namespace string) *Client {
	return &Client{temporal: c, namespace: namespace}
}

// View queries a run's state and its running nodes' heartbeats.
func (c *Client) View(ctx context.Context, r RunRef) (View, error) {
	v := View{Ref: r, Progress: map[string]runs.Progress{}}
	desc, err := c.temporal.DescribeWorkflowExecution(ctx, r.WorkflowID, r.RunID)
	if err != nil {
		return v, fmt.Errorf("run %s: %w", r.RunID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		v.Status = runs.StatusRunning
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		v.Status, v.Closed = runs.StatusCompleted, true
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		v.Status, v.Closed = runs.StatusCancelled, true
	default:
		v.Status, v.Closed = runs.StatusFailed, true
	}
	dc := converter.GetDefaultDataConverter()
	for _, pa := range desc.GetPendingActivities() {
		node, ok := runs.NodeOfRunActivity(pa.GetActivityId())
		if !ok || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var p runs.Progress
		if dc.FromPayloads(pa.GetHeartbeatDetails(), &p) == nil {
			v.Progress[node] = p
		}
	}
	resp, err := c.temporal.QueryWorkflow(ctx, r.WorkflowID, r.RunID, runs.QueryState)
	if err != nil {
		// A run whose first task has not run yet has no query handler.
		if v.Status == runs.StatusRunning {
			return v, nil
		}
		return v, fmt.Errorf("run %s: state: %w", r.RunID, err)
	}
	if err := resp.Get(&v.State); err != nil {
		return v, err
	}
	return v, nil
}

// followEvery is how often Follow looks at a run.
const followEvery = 500 * time.Millisecond

// Follow views a run until it ends, calling seen with each view (also the
// last), and returns the last. A cancelled ctx stops following, not the
// run.
func (c *Client) Follow(ctx context.Context, r RunRef, seen func(View)) (View, error) {
	for {
		v, err := c.View(ctx, r)
		if err != nil {
			return v, err
		}
		seen(v)
		if v.Closed {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("stopped following run %s (it goes on; see dag status %s): %w", r.RunID, r.RunID, ctx.Err())
		case <-time.After(followEvery):
		}
	}
}

// RecordView is the view of an ended run from the run record in the store
// (no Temporal needed): NotFound when there is none (the run has not
// ended, or ended before run records existed). A run ID that is not one
// is InvalidArgument.
func RecordView(ctx context.Context, s artifacts.Records, namespace, run string) (View, error) {
	rec, err := runs.Get(ctx, s, namespace, run)
	if err != nil {
		return View{}, err
	}
	return View{
		Ref:        RunRef{WorkflowID: rec.Workflow, RunID: rec.Run},
		Status:     rec.Status,
		State:      rec.State(),
		Progress:   map[string]runs.Progress{},
		Closed:     true,
		FromRecord: true,
	}, nil
}

// visibilityLag bounds how long a run just started may be missing from
// Temporal's list of runs, which is updated asynchronously.
const visibilityLag = 5 * time.Second

// Find resolves a run ID, or "" for the latest run. A run ID not listed
// yet is looked for again for up to visibilityLag, so a run named right
// after it started is found. No such run is NotFound; a run ID that is
// not one is InvalidArgument (it never reaches a query).
func (c *Client) Find(ctx context.Context, run string) (RunRef, error) {
	deadline := time.Now().Add(visibilityLag)
	for {
		r, err := c.list(ctx, run)
		if run == "" || !errdefs.IsNotFound(err) || time.Now().After(deadline) {
			return r, err
		}
		select {
		case <-ctx.Done():
			return RunRef{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// list finds a run (or the latest) in Temporal's list of runs.
func (c *Client) list(ctx context.Context, run string) (RunRef, error) {
	query := fmt.Sprintf("WorkflowType = '%s'", runs.StudyWorkflow)
	if run != "" {
		if err := runs.ValidRunID(run); err != nil {
			return RunRef{}, err
		}
		query += fmt.Sprintf(" AND RunId = '%s'", run)
	}
	resp, err := c.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: c.namespace, Query: query, PageSize: 50})
	if err != nil {
		return RunRef{}, fmt.Errorf("list runs: %w", err)
	}
	var best *RunRef
	var bestStart time.Time
	for _, e := range resp.GetExecutions() {
		start := e.GetStartTime().AsTime()
		if best == nil || start.After(bestStart) {
			best = &RunRef{WorkflowID: e.GetExecution().GetWorkflowId(), RunID: e.GetExecution().GetRunId()}
			bestStart = start
		}
	}
	if best == nil {
		if run == "" {
			return RunRef{}, fmt.Errorf("no runs yet: %w", errdefs.ErrNotFound)
		}
		return RunRef{}, fmt.Errorf("run %s: %w", run, errdefs.ErrNotFound)
	}
	return *best, nil
}

// Cancel asks a run to stop; running stages are cancelled and nothing
// partial is cached.
func (c *Client) Cancel(ctx context.Context, r RunRef) error {
	if err := c.temporal.CancelWorkflow(ctx, r.WorkflowID, r.RunID); err != nil {
		return fmt.Errorf("cancel %s: %w", r.RunID, err)
	}
	return nil
}
