package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/runs"
)

// memoHolder is the lease workflow's memo field naming its holder.
const memoHolder = "holder"

// claim starts the key's lease workflow, or finds the one running, and
// says who holds it. Retried claims by the same run are granted again.
func (a *Activities) claim(ctx context.Context, req runs.LeaseRequest) (runs.Lease, error) {
	c := a.opts.temporal
	if c == nil {
		return runs.Lease{Granted: true, Holder: req.Holder}, nil
	}
	id := runs.LeaseID(req.Key)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                req.Holder.Queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                     map[string]any{memoHolder: req.Holder},
	}, runs.LeaseWorkflow, req)
	if err != nil {
		return runs.Lease{}, fmt.Errorf("claim %s: %w", req.Key, err)
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, run.GetRunID())
	if err != nil {
		return runs.Lease{}, fmt.Errorf("claim %s: %w", req.Key, err)
	}
	var holder runs.Holder
	p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoHolder]
	if p == nil {
		return runs.Lease{}, fmt.Errorf("claim %s: lease %s has no holder", req.Key, id)
	}
	if err := converter.GetDefaultDataConverter().FromPayload(p, &holder); err != nil {
		return runs.Lease{}, fmt.Errorf("claim %s: lease holder: %w", req.Key, err)
	}
	return runs.Lease{Granted: holder.Run == req.Holder.Run, ID: id, Holder: holder}, nil
}

// AwaitLease blocks until the lease ends (its holder released it or
// closed), heartbeating whom it waits on so the Web UI shows it.
func (a *Activities) AwaitLease(ctx context.Context, l runs.Lease) error {
	if a.opts.temporal == nil || l.ID == "" {
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- a.opts.temporal.GetWorkflow(ctx, l.ID, "").Get(ctx, nil) }()
	t := time.NewTicker(pulseEvery)
	defer t.Stop()
	for {
		activity.RecordHeartbeat(ctx, "waiting on "+l.Holder.String())
		select {
		case <-done:
			// However the lease ended (released, holder closed, or its
			// workflow failed), the caller looks the key up again and
			// claims anew on a miss.
			return ctx.Err()
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Release ends a lease this run holds; a lease already gone is fine.
func (a *Activities) Release(ctx context.Context, l runs.Lease) error {
	if a.opts.temporal == nil || l.ID == "" || !l.Granted {
		return nil
	}
	err := a.opts.temporal.SignalWorkflow(ctx, l.ID, "", runs.SignalRelease, l.Holder.Run)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("release %s: %w", l.ID, err)
	}
	return nil
}

// LeaseOver reports whether a lease has no reason to last: its key is
// published, or its holder's run has ended (a terminated run cannot
// release). The lease workflow asks every minute, so a lost release
// signal delays waiters by a minute, not for ever.
func (a *Activities) LeaseOver(ctx context.Context, req runs.LeaseRequest) (bool, error) {
	if _, err := artifacts.GetResult(ctx, a.store, req.Key); err == nil {
		return true, nil
	}
	if a.opts.temporal == nil {
		return true, nil
	}
	h := req.Holder
	desc, err := a.opts.temporal.DescribeWorkflowExecution(ctx, h.Workflow, h.Run)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return true, nil
	case err != nil:
		return false, err
	}
	return desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}
