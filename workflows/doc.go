// Package workflows holds dag's Temporal workflow: a small, generic DAG
// interpreter. It is fed a plan by digest, runs every ready node in sorted
// order under a parallelism limit, keeps independent branches going when
// one fails, skips what depends on a failure, and answers the "state"
// query with every node's outcome.
//
// Workflow code is deterministic: no I/O, no clocks but workflow.Now, no
// map iteration that decides anything, only workflow.* concurrency.
package workflows
