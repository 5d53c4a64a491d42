// Package runs is what a run of a study is, as the workflows, the
// activities, the worker and the CLI share it: the names registered with
// Temporal, each activity's input and result, the lease protocol (api.go),
// each node's outcome in the workflow's state, and the run record the
// store keeps once the run has ended, so that `dag status` and `dag
// report` answer long after Temporal has dropped the run's history
// (docs/caching.md, "Run records").
package runs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// Outcome is what happened to a node in a run (the contract's outcomes).
type Outcome string

// The outcomes.
const (
	Pending   Outcome = "pending"
	Running   Outcome = "running"
	Executed  Outcome = "executed"
	Cached    Outcome = "cached"
	Failed    Outcome = "failed"
	Skipped   Outcome = "skipped"
	Cancelled Outcome = "cancelled"
)

// NodeState is one node's state in a run.
type NodeState struct {
	ID      string                   `json:"id"`
	Kind    study.Kind               `json:"kind"`
	Key     digest.Digest            `json:"key,omitempty"`
	Outcome Outcome                  `json:"outcome"`
	Outputs map[string]digest.Digest `json:"outputs"`
	Error   string                   `json:"error,omitempty"`
	// Resumed is the step a training node resumed from after a retry.
	Resumed int64 `json:"resumed,omitempty"`
	// Waiting names the run this node waits on (or waited on) because
	// that run was executing the same key.
	Waiting  string    `json:"waiting,omitempty"`
	Started  time.Time `json:"started,omitempty"`
	Finished time.Time `json:"finished,omitempty"`
}

// State is a run's state, as the study workflow's "state" query returns
// it.
type State struct {
	Study string      `json:"study"`
	Nodes []NodeState `json:"nodes"`
}

// Status is how a run ended.
type Status string

// The statuses of a run (the contract's run statuses).
const (
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// RecordFormat versions the run record's encoding.
const RecordFormat = "dag-run/1"

// Record is what the store keeps of a run once it has ended.
type Record struct {
	Format    string        `json:"format"`
	Namespace string        `json:"namespace"`
	Study     string        `json:"study"`
	Run       string        `json:"run"`
	Workflow  string        `json:"workflow"`
	Plan      digest.Digest `json:"plan"`
	Status    Status        `json:"status"`
	// Error says why a failed run failed.
	Error    string       `json:"error,omitempty"`
	Started  time.Time    `json:"started"`
	Finished time.Time    `json:"finished"`
	Nodes    []NodeRecord `json:"nodes"`
}

// NodeRecord is one node of a Record: its state at the end of the run
// and, for a node with a result, who produced that result (for a cached
// node, the run that executed it).
type NodeRecord struct {
	NodeState
	Producer *artifacts.Producer `json:"producer,omitempty"`
}

// State returns the record's nodes as a workflow state.
func (r Record) State() State {
	s := State{Study: r.Study, Nodes: make([]NodeState, len(r.Nodes))}
	for i, n := range r.Nodes {
		s.Nodes[i] = n.NodeState
	}
	return s
}

// recordName is where a run's record is kept: runs/<namespace>/<run>. A
// namespace or run ID that cannot be part of a record name is
// InvalidArgument.
func recordName(namespace, run string) (string, error) {
	name := "runs/" + namespace + "/" + run
	if err := ValidRunID(run); err != nil {
		return "", err
	}
	if err := artifacts.ValidRecordName(name); err != nil {
		return "", fmt.Errorf("run record of %s in namespace %s: %w", run, namespace, err)
	}
	return name, nil
}

// ValidRunID checks that run looks like a Temporal run ID (letters,
// digits and dashes), so it can name a record and enter a visibility
// query without quoting.
func ValidRunID(run string) error {
	if run == "" || len(run) > 64 {
		return fmt.Errorf("run ID %q: want a run ID as dag submit prints it: %w", run, errdefs.ErrInvalidArgument)
	}
	for _, c := range run {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("run ID %q: want a run ID as dag submit prints it: %w", run, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

// Put stores a run's record, replacing an earlier one (a retried write
// stores the same run again).
func Put(ctx context.Context, s artifacts.Records, r Record) error {
	name, err := recordName(r.Namespace, r.Run)
	if err != nil {
		return err
	}
	r.Format = RecordFormat
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("run record %s: %w", r.Run, err)
	}
	if err := s.PutRecord(ctx, name, b); err != nil {
		return fmt.Errorf("run record %s: %w", r.Run, err)
	}
	return nil
}

// Get reads a run's record: NotFound when the store has none (the run has
// not ended, or ended before run records existed), DataLoss when it does
// not decode.
func Get(ctx context.Context, s artifacts.Records, namespace, run string) (Record, error) {
	name, err := recordName(namespace, run)
	if err != nil {
		return Record{}, err
	}
	b, err := s.GetRecord(ctx, name)
	if err != nil {
		return Record{}, fmt.Errorf("run record %s: %w", run, err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{}, fmt.Errorf("run record %s: %v: %w", run, err, errdefs.ErrDataLoss)
	}
	if r.Format != RecordFormat || r.Run != run {
		return Record{}, fmt.Errorf("run record %s: format %q for run %q: %w", run, r.Format, r.Run, errdefs.ErrDataLoss)
	}
	return r, nil
}
