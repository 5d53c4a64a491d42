package client

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/runs"
)

// SearchAttrStudy makes studies findable by name in the Web UI and in
// visibility queries; the embedded server registers it.
const SearchAttrStudy = "DagStudy"

// WorkflowID is the same for identical submissions (study name, plan,
// source contents and forced nodes), which is what lets a resubmit attach
// to a running one.
func WorkflowID(in runs.StudyInput) string {
	var b strings.Builder
	b.WriteString(in.Plan.String())
	ids := make([]string, 0, len(in.Sources))
	for id := range in.Sources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, "\n%s=%s", id, in.Sources[id])
	}
	for _, f := range in.Force {
		fmt.Fprintf(&b, "\nforce=%s", f)
	}
	return "dag-" + in.Study + "-" + digest.FromString(b.String()).Encoded()[:12]
}

// Start starts a run of a stored plan, or attaches to the identical run
// that is going (same WorkflowID): attached says which. A finished
// identical run does not attach: a new run starts, and its cached nodes
// are reused.
func (c *Client) Start(ctx context.Context, in runs.StudyInput) (r RunRef, attached bool, err error) {
	id := WorkflowID(in)
	opts := tclient.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                runs.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		Memo:                     map[string]any{runs.MemoStudy: in.Study, runs.MemoPlan: in.Plan.String(), runs.MemoInput: in},
		TypedSearchAttributes:    temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyKeyword(SearchAttrStudy).ValueSet(in.Study)),
	}
	run, err := c.temporal.ExecuteWorkflow(ctx, opts, runs.StudyWorkflow, in)
	if err != nil {
		return RunRef{}, false, fmt.Errorf("start %s: %w", id, err)
	}
	// A run that was already going has more than its first three events
	// (started, task scheduled, task started).
	if desc, err := c.temporal.DescribeWorkflowExecution(ctx, id, run.GetRunID()); err == nil {
		attached = desc.WorkflowExecutionInfo.GetHistoryLength() > 3
	}
	return RunRef{WorkflowID: id, RunID: run.GetRunID()}, attached, nil
}

// Retry starts a finished run's study again, from the input its workflow
// carries: failed nodes run again, cached ones stay cached. A run still
// going, or one without an input, is FailedPrecondition.
func (c *Client) Retry(ctx context.Context, r RunRef) (RunRef, runs.StudyInput, error) {
	var in runs.StudyInput
	desc, err := c.temporal.DescribeWorkflowExecution(ctx, r.WorkflowID, r.RunID)
	if err != nil {
		return RunRef{}, in, fmt.Errorf("run %s: %w", r.RunID, err)
	}
	field := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()[runs.MemoInput]
	if field == nil || converter.GetDefaultDataConverter().FromPayload(field, &in) != nil {
		return RunRef{}, in, fmt.Errorf("run %s carries no study input: %w", r.RunID, errdefs.ErrFailedPrecondition)
	}
	if desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return RunRef{}, in, fmt.Errorf("run %s is still running: %w", r.RunID, errdefs.ErrFailedPrecondition)
	}
	nr, _, err := c.Start(ctx, in)
	return nr, in, err
}
