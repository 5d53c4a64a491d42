package workflows

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/dagproject/dag/activities"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// Workflow versions (workflow.GetVersion).
const (
	// versionQueues routes stages to class queues and deduplicates
	// concurrent runs of one key through leases.
	versionQueues     = "queues-leases"
	versionQueuesOnly = 1
	// versionRunRecord stores a run record in the store as a run's last
	// step.
	versionRunRecord     = "run-record"
	versionRunRecordOnly = 1
)

// nodeDone reports a finished node to the scheduler loop.
type nodeDone struct {
	ID      string
	Key     digest.Digest
	Outputs map[string]digest.Digest
	Cached  bool
	Resumed int64
	Err     string
	Cancel  bool
}

// Study runs a plan. It returns the final state; when a node failed the
// error lists them (and the state is still queryable).
func Study(ctx workflow.Context, in runs.StudyInput) (runs.State, error) {
	if in.Parallelism <= 0 {
		in.Parallelism = 4
	}
	var a *activities.Activities
	info := workflow.GetInfo(ctx)
	var g runs.Graph
	short := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
	})
	if err := workflow.ExecuteActivity(short, a.LoadGraph, in.Plan).Get(ctx, &g); err != nil {
		return end(ctx, in, runs.State{Study: in.Study, Nodes: []runs.NodeState{}}, runs.StatusFailed, err)
	}
	routed := workflow.GetVersion(ctx, versionQueues, workflow.DefaultVersion, versionQueuesOnly) >= versionQueuesOnly
	s := newScheduler(g)
	if err := workflow.SetQueryHandler(ctx, runs.QueryState, func() (runs.State, error) { return s.snapshot(in.Study), nil }); err != nil {
		return end(ctx, in, s.snapshot(in.Study), runs.StatusFailed, err)
	}

	done := workflow.NewChannel(ctx)
	// Finishes are sent and received outside cancellation, so a cancelled
	// run still collects every node's final state. (A context belongs to
	// the coroutine that made it: each sender makes its own.)
	quiet, _ := workflow.NewDisconnectedContext(ctx)
	running := 0
	for {
		if ctx.Err() == nil {
			for _, id := range s.ready() {
				if running >= in.Parallelism {
					break
				}
				n := s.nodes[id]
				n.Outcome, n.Started = runs.Running, workflow.Now(ctx)
				nin := runs.NodeRef{
					Plan: in.Plan, Namespace: in.Namespace, Node: id,
					Inputs: s.inputs(id), Source: in.Sources[id], Run: info.WorkflowExecution.RunID,
				}
				running++
				how := nodeRun{force: forced(in.Force, id)}
				if routed {
					how.queue = runs.QueueFor(in.Classes[id])
					how.direct = !leased(n.Kind)
					if leased(n.Kind) {
						how.holder = &runs.Holder{Workflow: info.WorkflowExecution.ID, Run: info.WorkflowExecution.RunID, Study: in.Study, Node: id, Queue: info.TaskQueueName}
						how.waiting = func(on string) { n.Waiting = on }
					}
				}
				workflow.Go(ctx, func(ctx workflow.Context) {
					r := runNode(ctx, nin, how)
					send, _ := workflow.NewDisconnectedContext(ctx)
					done.Send(send, r)
				})
			}
		}
		if running == 0 {
			break
		}
		var r nodeDone
		done.Receive(quiet, &r)
		running--
		s.finish(r, workflow.Now(ctx))
	}
	if ctx.Err() != nil {
		s.cancelPending()
		return end(ctx, in, s.snapshot(in.Study), runs.StatusCancelled, temporal.NewCanceledError())
	}
	if failed := s.failed(); len(failed) > 0 {
		return end(ctx, in, s.snapshot(in.Study), runs.StatusFailed, temporal.NewApplicationError(
			fmt.Sprintf("%d node(s) failed: %s", len(failed), strings.Join(failed, ", ")), "NodesFailed"))
	}
	return end(ctx, in, s.snapshot(in.Study), runs.StatusCompleted, nil)
}

// end finishes a run: it stores the run's record (runs.Record) as its
// last step, so its status and report outlive Temporal's retention, and
// returns the final state and error. A record that cannot be written is
// logged, not a failure: every node's result is in the store already.
// (A run that is terminated or times out ends without this step, and
// without a record.)
func end(ctx workflow.Context, in runs.StudyInput, st runs.State, status runs.Status, err error) (runs.State, error) {
	quiet, _ := workflow.NewDisconnectedContext(ctx) // a cancelled run records too
	if workflow.GetVersion(quiet, versionRunRecord, workflow.DefaultVersion, versionRunRecordOnly) >= versionRunRecordOnly {
		recordRun(quiet, in, st, status, err)
	}
	return st, err
}

func recordRun(ctx workflow.Context, in runs.StudyInput, st runs.State, status runs.Status, failure error) {
	var a *activities.Activities
	info := workflow.GetInfo(ctx)
	rec := runs.Record{
		Namespace: in.Namespace, Study: in.Study, Plan: in.Plan, Status: status,
		Run: info.WorkflowExecution.RunID, Workflow: info.WorkflowExecution.ID,
		Started: info.WorkflowStartTime, Finished: workflow.Now(ctx),
		Nodes: make([]runs.NodeRecord, len(st.Nodes)),
	}
	if failure != nil && status == runs.StatusFailed {
		rec.Error = rootMessage(failure)
	}
	for i, n := range st.Nodes {
		rec.Nodes[i] = runs.NodeRecord{NodeState: n}
	}
	opts := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ActivityID:          runs.RecordActivityID,
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
	if err := workflow.ExecuteActivity(opts, a.RecordRun, rec).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("run record not stored", "error", err)
	}
}

// leased reports whether concurrent runs of a node of this kind are
// deduplicated: plugin stages are (training and evaluation cost GPU
// hours); the built-in data and report nodes are cheap and idempotent, so
// a lease would cost more than running them twice.
func leased(k study.Kind) bool { return k != study.KindData && k != study.KindReport }

func forced(force []string, id string) bool {
	for _, f := range force {
		if f == id {
			return true
		}
	}
	return false
}

// nodeRun says how to run one node.
type nodeRun struct {
	force bool
	// queue is the task queue of the node's lookup and run ("": the
	// workflow's own, as before versionQueues).
	queue string
	// holder, when set, takes the key's lease before executing, so
	// concurrent runs needing the same key execute it once.
	holder *runs.Holder
	// waiting records the run this node waits on.
	waiting func(string)
	// direct runs the node with one activity that looks it up first
	// (nodes without a lease: nothing to claim or wait on in between).
	direct bool
}

// runNode looks a node up and, on a miss (or when forced), runs it. With
// a lease holder, the lookup also claims the key's lease on a miss; while
// another run holds it the node waits for that run, then looks again: a
// hit is reused, a miss (the holder failed) claims again.
func runNode(ctx workflow.Context, ref runs.NodeRef, how nodeRun) nodeDone {
	var a *activities.Activities
	if how.direct {
		return execute(ctx, runs.RunInput{NodeRef: ref, LookupFirst: !how.force}, how)
	}
	lookupOpts := workflow.ActivityOptions{
		ActivityID:          runs.LookupActivityID(ref.Node),
		TaskQueue:           how.queue,
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
	}
	look := runs.LookupInput{NodeRef: ref}
	if how.holder != nil && !how.force {
		look.Claim = how.holder
	}
	var lr runs.LookupResult
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, lookupOpts), a.Lookup, look).Get(ctx, &lr); err != nil {
		return failure(ref.Node, err)
	}
	lookupOpts.ActivityID = "" // a look-up again gets an ID of its own
	await := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		ActivityID:          runs.WaitActivityID(ref.Node),
		StartToCloseTimeout: 72 * time.Hour,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
	for !lr.Hit && lr.Lease != nil && !lr.Lease.Granted {
		how.waiting("waiting on " + lr.Lease.Holder.String())
		if err := workflow.ExecuteActivity(await, a.AwaitLease, *lr.Lease).Get(ctx, nil); err != nil {
			return failure(ref.Node, err)
		}
		how.waiting("waited on " + lr.Lease.Holder.String())
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, lookupOpts), a.Lookup, look).Get(ctx, &lr); err != nil {
			return failure(ref.Node, err)
		}
	}
	if lr.Hit && !how.force {
		return nodeDone{ID: ref.Node, Key: lr.Key, Outputs: lr.Outputs, Cached: true}
	}
	return execute(ctx, runs.RunInput{NodeRef: ref, Lease: lr.Lease}, how)
}

// execute runs the node's Run activity (releasing a lease it failed
// under).
func execute(ctx workflow.Context, in runs.RunInput, how nodeRun) nodeDone {
	var a *activities.Activities
	run := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           how.queue,
		ActivityID:          runs.RunActivityID(in.Node),
		StartToCloseTimeout: 72 * time.Hour,
		HeartbeatTimeout:    30 * time.Second, // running stages heartbeat every 5 s (activities.pulseEvery)
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 4,
		},
	})
	var rr runs.RunResult
	if err := workflow.ExecuteActivity(run, a.Run, in).Get(ctx, &rr); err != nil {
		if in.Lease != nil {
			// A successful Run releases the lease itself; a failed or
			// cancelled one is released here, so waiters move on (one of
			// them executes the key instead).
			rctx, _ := workflow.NewDisconnectedContext(ctx)
			rctx = workflow.WithActivityOptions(rctx, workflow.ActivityOptions{
				StartToCloseTimeout: time.Minute,
				RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
			})
			_ = workflow.ExecuteActivity(rctx, a.Release, *in.Lease).Get(rctx, nil)
		}
		return failure(in.Node, err)
	}
	return nodeDone{ID: in.Node, Key: rr.Key, Outputs: rr.Outputs, Resumed: rr.Resumed, Cached: rr.Cached}
}

func failure(id string, err error) nodeDone {
	if temporal.IsCanceledError(err) {
		return nodeDone{ID: id, Cancel: true, Err: "cancelled"}
	}
	return nodeDone{ID: id, Err: rootMessage(err)}
}

// rootMessage is what a user needs from a failure: the message of the
// outermost application error (an activity failure wraps the error the
// activity classified), without Temporal's type decorations.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// scheduler tracks node states; it is plain data, so its decisions are
// deterministic given the order finishes arrive in.
type scheduler struct {
	order []string // node IDs, sorted
	nodes map[string]*runs.NodeState
	graph map[string]runs.GraphNode
	users map[string][]string
}

func newScheduler(g runs.Graph) *scheduler {
	s := &scheduler{nodes: map[string]*runs.NodeState{}, graph: map[string]runs.GraphNode{}, users: map[string][]string{}}
	for _, n := range g.Nodes {
		s.order = append(s.order, n.ID)
		s.nodes[n.ID] = &runs.NodeState{ID: n.ID, Kind: n.Kind, Outcome: runs.Pending, Outputs: map[string]digest.Digest{}}
		s.graph[n.ID] = n
		for _, d := range n.Deps {
			s.users[d] = append(s.users[d], n.ID)
		}
	}
	sort.Strings(s.order)
	return s
}

func ok(o runs.Outcome) bool { return o == runs.Executed || o == runs.Cached }

// ready returns pending nodes whose deps all succeeded, sorted.
func (s *scheduler) ready() []string {
	var out []string
	for _, id := range s.order {
		if s.nodes[id].Outcome != runs.Pending {
			continue
		}
		all := true
		for _, d := range s.graph[id].Deps {
			if !ok(s.nodes[d].Outcome) {
				all = false
				break
			}
		}
		if all {
			out = append(out, id)
		}
	}
	return out
}

// inputs maps a node's input names to its deps' output digests.
func (s *scheduler) inputs(id string) map[string]digest.Digest {
	in := map[string]digest.Digest{}
	for _, i := range s.graph[id].Inputs {
		in[i.Name] = s.nodes[i.Node].Outputs[i.Output]
	}
	return in
}

func (s *scheduler) finish(r nodeDone, now time.Time) {
	n := s.nodes[r.ID]
	n.Finished = now
	switch {
	case r.Cancel:
		n.Outcome, n.Error = runs.Cancelled, r.Err
	case r.Err != "":
		n.Outcome, n.Error = runs.Failed, r.Err
		s.skipUsers(r.ID)
	default:
		n.Key, n.Outputs, n.Resumed = r.Key, r.Outputs, r.Resumed
		n.Outcome = runs.Executed
		if r.Cached {
			n.Outcome = runs.Cached
		}
	}
}

// skipUsers marks everything downstream of a failed node as skipped.
func (s *scheduler) skipUsers(id string) {
	users := append([]string{}, s.users[id]...)
	sort.Strings(users)
	for _, u := range users {
		if s.nodes[u].Outcome == runs.Pending {
			s.nodes[u].Outcome = runs.Skipped
			s.nodes[u].Error = "depends on failed " + id
			s.skipUsers(u)
		}
	}
}

func (s *scheduler) cancelPending() {
	for _, id := range s.order {
		if n := s.nodes[id]; n.Outcome == runs.Pending || n.Outcome == runs.Running {
			n.Outcome = runs.Cancelled
		}
	}
}

func (s *scheduler) failed() []string {
	var out []string
	for _, id := range s.order {
		if s.nodes[id].Outcome == runs.Failed {
			out = append(out, id)
		}
	}
	return out
}

// snapshot copies the state for the query. Its only map iteration copies
// a map, which gives the same result in any order.
//
//workflowcheck:ignore
func (s *scheduler) snapshot(studyName string) runs.State {
	st := runs.State{Study: studyName, Nodes: make([]runs.NodeState, 0, len(s.order))}
	for _, id := range s.order {
		n := *s.nodes[id]
		outs := make(map[string]digest.Digest, len(n.Outputs))
		for k, v := range n.Outputs {
			outs[k] = v
		}
		n.Outputs = outs
		st.Nodes = append(st.Nodes, n)
	}
	return st
}
