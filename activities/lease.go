package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/dagproject/dag/artifacts"
)

// Leases make a node that two runs need at once execute once: the first
// run to claim a key (Lookup with NodeInput.Claim) starts the key's lease
// workflow and executes the node; the others wait for that workflow to
// end (AwaitLease) and then look the key up again (design.md §3: a per-key workflow with conflict policy
// USE_EXISTING, since child workflows cannot attach to a running ID).
const (
	// LeaseWorkflow is the lease workflow's registered name.
	LeaseWorkflow = "dag.Lease"
	// SignalRelease ends a lease; its payload is the holder's run ID.
	SignalRelease = "release"
	// memoHolder is the lease workflow's memo field naming its holder.
	memoHolder = "holder"
)

// Holder is a run that holds (or asks for) the lease on a node's key.
type Holder struct {
	Workflow string `json:"workflow"`
	Run      string `json:"run"`
	Study    string `json:"study"`
	Node     string `json:"node"`
	// Queue is the holder workflow's task queue; its lease workflow runs
	// there too (stage queues have no workflow workers).
	Queue string `json:"queue"`
}

// String is how a waiting node names the run it waits on.
func (h Holder) String() string {
	return fmt.Sprintf("run %s of study %s (node %s)", h.Run, h.Study, h.Node)
}

// LeaseRequest asks for the lease on one key.
type LeaseRequest struct {
	Key    digest.Digest `json:"key"`
	Holder Holder        `json:"holder"`
}

// Lease is a claim's answer: whether the asker holds the key's lease, and
// the lease workflow to wait on or release.
type Lease struct {
	Granted bool   `json:"granted"`
	ID      string `json:"id,omitempty"` // "" when leases are off
	Run     string `json:"run,omitempty"`
	Holder  Holder `json:"holder"`
}

// LeaseID is the workflow ID of a key's lease.
func LeaseID(key digest.Digest) string { return "dag-lease-" + key.Encoded() }

// claim starts the key's lease workflow, or finds the one running, and
// says who holds it. Retried claims by the same run are granted again.
func (a *Activities) claim(ctx context.Context, req LeaseRequest) (Lease, error) {
	c := a.opts.temporal
	if c == nil {
		return Lease{Granted: true, Holder: req.Holder}, nil
	}
	id := LeaseID(req.Key)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                req.Holder.Queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                     map[string]any{memoHolder: req.Holder},
	}, LeaseWorkflow, req)
	if err != nil {
		return Lease{}, fmt.Errorf("claim %s: %w", req.Key, err)
	}
	desc, err := c.DescribeWorkflowExecution(ctx, id, run.GetRunID())
	if err != nil {
		return Lease{}, fmt.Errorf("claim %s: %w", req.Key, err)
	}
	var holder Holder
	p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[memoHolder]
	if p == nil {
		return Lease{}, fmt.Errorf("claim %s: lease %s has no holder", req.Key, id)
	}
	if err := converter.GetDefaultDataConverter().FromPayload(p, &holder); err != nil {
		return Lease{}, fmt.Errorf("claim %s: lease holder: %w", req.Key, err)
	}
	return Lease{Granted: holder.Run == req.Holder.Run, ID: id, Run: run.GetRunID(), Holder: holder}, nil
}

// AwaitLease blocks until the lease ends (its holder released it or
// closed), heartbeating whom it waits on so the Web UI shows it.
func (a *Activities) AwaitLease(ctx context.Context, l Lease) error {
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
func (a *Activities) Release(ctx context.Context, l Lease) error {
	if a.opts.temporal == nil || l.ID == "" || !l.Granted {
		return nil
	}
	err := a.opts.temporal.SignalWorkflow(ctx, l.ID, "", SignalRelease, l.Holder.Run)
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
func (a *Activities) LeaseOver(ctx context.Context, req LeaseRequest) (bool, error) {
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
