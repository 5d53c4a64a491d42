package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dagproject/dag/activities"
	"github.com/dagproject/dag/runs"
)

// leaseChecks is how many holder checks a lease run makes before it
// continues as new, keeping its history small however long the node runs.
const leaseChecks = 500

// Lease holds the lease on one key for its holder (activities.Lookup
// starts it): it ends when the holder releases it, or when a check finds
// the key published or the holder's run closed (activities.LeaseOver).
func Lease(ctx workflow.Context, req runs.LeaseRequest) error {
	holder := req.Holder
	var a *activities.Activities
	check := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
	})
	release := workflow.GetSignalChannel(ctx, runs.SignalRelease)
	for i := 0; i < leaseChecks; i++ {
		released := false
		tctx, cancel := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(release, func(c workflow.ReceiveChannel, _ bool) {
			var run string
			c.Receive(ctx, &run)
			released = run == holder.Run
		})
		sel.AddFuture(workflow.NewTimer(tctx, time.Minute), func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		if released {
			return nil
		}
		var over bool
		if err := workflow.ExecuteActivity(check, a.LeaseOver, req).Get(ctx, &over); err == nil && over {
			return nil
		}
	}
	return workflow.NewContinueAsNewError(ctx, runs.LeaseWorkflow, req)
}
