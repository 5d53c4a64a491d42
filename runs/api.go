package runs

import (
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/study"
)

// Names registered with Temporal and shared by the workflows, the
// activities, the worker and the CLI.
const (
	// StudyWorkflow runs a study's plan; LeaseWorkflow holds the lease on
	// one key (see Lease).
	StudyWorkflow = "dag.Study"
	LeaseWorkflow = "dag.Lease"
	// TaskQueue is the queue of the workflows and of the activities every
	// worker runs (plan loading, leases, run records); stages run on
	// QueueFor their resource class.
	TaskQueue = "dag"
	// QueryState is the study workflow's query returning its State.
	QueryState = "state"
	// SignalRelease ends a lease; its payload is the holder's run ID.
	SignalRelease = "release"
)

// Memo fields of a study workflow: its study, its plan's digest, and its
// StudyInput (which `dag retry` starts again).
const (
	MemoStudy = "study"
	MemoPlan  = "plan"
	MemoInput = "input"
)

// QueueFor is the task queue of stages of a resource class ("" is cpu).
func QueueFor(class string) string {
	if class == "" {
		class = "cpu"
	}
	return TaskQueue + "-" + class
}

// Activity IDs of a node's activities in a study run: the Web UI and
// `dag status` find a node's activities by them.
const (
	lookupPrefix = "lookup:"
	runPrefix    = "run:"
	waitPrefix   = "wait:"
	// RecordActivityID is the run record's activity (RecordRun).
	RecordActivityID = "record"
)

// LookupActivityID, RunActivityID and WaitActivityID name a node's
// look-up, execution and wait on another run's lease.
func LookupActivityID(node string) string { return lookupPrefix + node }
func RunActivityID(node string) string    { return runPrefix + node }
func WaitActivityID(node string) string   { return waitPrefix + node }

// NodeOfRunActivity is the node a RunActivityID names; ok is false for
// any other activity.
func NodeOfRunActivity(id string) (node string, ok bool) { return strings.CutPrefix(id, runPrefix) }

// StudyInput starts a run of a stored plan.
type StudyInput struct {
	Study     string        `json:"study"`
	Namespace string        `json:"namespace"`
	Plan      digest.Digest `json:"plan"`
	// Sources are the uploaded sources of data nodes, by node ID.
	Sources map[string]digest.Digest `json:"sources"`
	// Parallelism bounds nodes in flight (default 4).
	Parallelism int `json:"parallelism,omitempty"`
	// Force re-executes these nodes even when cached, overwriting their
	// entries; what depends on them re-runs only if their outputs change.
	Force []string `json:"force,omitempty"`
	// Classes are the resource classes (cpu, gpu) of the nodes' plugins,
	// by node ID, as the submitting client found them; a node's lookup and
	// run go to that class's queue (QueueFor). Missing nodes go to cpu.
	Classes map[string]string `json:"classes,omitempty"`
}

// Graph is the part of a plan a workflow needs to schedule it
// (LoadGraph's result).
type Graph struct {
	Study string      `json:"study"`
	Nodes []GraphNode `json:"nodes"`
}

// GraphNode is one node's identity and wiring.
type GraphNode struct {
	ID     string        `json:"id"`
	Kind   study.Kind    `json:"kind"`
	Inputs []study.Input `json:"inputs,omitempty"`
	Deps   []string      `json:"deps"`
}

// NodeRef names one node of a stored plan in a run, with the content
// digests of its inputs as produced upstream in that run.
type NodeRef struct {
	Plan      digest.Digest            `json:"plan"`
	Namespace string                   `json:"namespace"`
	Node      string                   `json:"node"`
	Inputs    map[string]digest.Digest `json:"inputs,omitempty"`
	// Source is a data node's uploaded source (a blob, or a manifest).
	Source digest.Digest `json:"source,omitempty"`
	// Run identifies the run, for producer records.
	Run string `json:"run,omitempty"`
}

// LookupInput is the Lookup activity's input.
type LookupInput struct {
	NodeRef
	// Claim, when set, claims the key's lease for this holder on a miss.
	Claim *Holder `json:"claim,omitempty"`
}

// LookupResult says whether a node's result is cached.
type LookupResult struct {
	Key     digest.Digest            `json:"key"`
	Hit     bool                     `json:"hit"`
	Outputs map[string]digest.Digest `json:"outputs,omitempty"`
	// Lease is the key's lease after a claim (LookupInput.Claim): granted,
	// or held by another run to wait on.
	Lease *Lease `json:"lease,omitempty"`
}

// RunInput is the Run activity's input.
type RunInput struct {
	NodeRef
	// Lease is the lease the run holds: released once the result is
	// published.
	Lease *Lease `json:"lease,omitempty"`
	// LookupFirst makes Run look the key up and return a hit (Cached)
	// instead of executing: one activity instead of two for nodes that
	// take no lease.
	LookupFirst bool `json:"lookup_first,omitempty"`
}

// RunResult is a node's published outputs.
type RunResult struct {
	Key     digest.Digest            `json:"key"`
	Outputs map[string]digest.Digest `json:"outputs"`
	// Resumed is the step a training node resumed from (0 = from scratch).
	Resumed int64 `json:"resumed,omitempty"`
	// Cached says the result was found (RunInput.LookupFirst), not made.
	Cached bool `json:"cached,omitempty"`
	// Metrics are a training node's final metrics.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Progress is a running node's heartbeat: what `dag status` shows and
// what a retried attempt resumes from.
type Progress struct {
	Step    int64              `json:"step"`
	Total   int64              `json:"total"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Checkpoint is the latest checkpoint stored (scratch, never a cache
	// entry) and the step it holds.
	Checkpoint     digest.Digest `json:"checkpoint,omitempty"`
	CheckpointStep int64         `json:"checkpoint_step,omitempty"`
}

// Holder is a run that holds (or asks for) the lease on a node's key.
//
// Leases make a node that two runs need at once execute once: the first
// run to claim a key (Lookup with a Claim) starts the key's lease workflow
// (ID LeaseID, conflict policy USE_EXISTING, since child workflows cannot
// attach to a running ID) and executes the node; the others wait for that
// workflow to end (AwaitLease) and then look the key up again.
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

// LeaseRequest asks for the lease on one key; it is also the lease
// workflow's input.
type LeaseRequest struct {
	Key    digest.Digest `json:"key"`
	Holder Holder        `json:"holder"`
}

// Lease is a claim's answer: whether the asker holds the key's lease, and
// the lease workflow to wait on or release.
type Lease struct {
	Granted bool   `json:"granted"`
	ID      string `json:"id,omitempty"` // "" when leases are off
	Holder  Holder `json:"holder"`
}

// LeaseID is the workflow ID of a key's lease.
func LeaseID(key digest.Digest) string { return "dag-lease-" + key.Encoded() }
