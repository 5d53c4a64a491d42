package activities

import (
	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/study"
)

// Graph is the part of a plan a workflow needs to schedule it.
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

// NodeInput names one node of a stored plan and the content digests of
// its inputs, as produced upstream in this run.
type NodeInput struct {
	Plan      digest.Digest            `json:"plan"`
	Namespace string                   `json:"namespace"`
	Node      string                   `json:"node"`
	Inputs    map[string]digest.Digest `json:"inputs,omitempty"`
	// Source is a data node's uploaded source (a blob, or a manifest).
	Source digest.Digest `json:"source,omitempty"`
	// Run identifies the run, for producer records.
	Run string `json:"run,omitempty"`
	// Claim, for Lookup, claims the key's lease for this run on a miss.
	Claim *Holder `json:"claim,omitempty"`
	// Lease, for Run, is the lease the run holds: released once the
	// result is published.
	Lease *Lease `json:"lease,omitempty"`
	// LookupFirst makes Run look the key up and return a hit (Cached)
	// instead of executing: one activity instead of two for nodes that
	// take no lease.
	LookupFirst bool `json:"lookup_first,omitempty"`
}

// LookupResult says whether a node's result is cached.
type LookupResult struct {
	Key     digest.Digest            `json:"key"`
	Hit     bool                     `json:"hit"`
	Outputs map[string]digest.Digest `json:"outputs,omitempty"`
	// Never is set for nodes whose recipe says `cache: never`: they are
	// always executed, and their results never recorded.
	Never bool `json:"never,omitempty"`
	// Lease is the key's lease after a claim (NodeInput.Claim): granted,
	// or held by another run to wait on.
	Lease *Lease `json:"lease,omitempty"`
}

// RunResult is a node's published outputs.
type RunResult struct {
	Key     digest.Digest            `json:"key"`
	Outputs map[string]digest.Digest `json:"outputs"`
	// Resumed is the step a training node resumed from (0 = from scratch).
	Resumed int64 `json:"resumed,omitempty"`
	// Cached says the result was found (NodeInput.LookupFirst), not made.
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
