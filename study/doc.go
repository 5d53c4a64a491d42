// Package study reads study.yaml, compiles it into an immutable plan (a
// DAG of stages) and computes the cache keys of its nodes. It is pure code:
// no store, no Temporal, no plugins.
//
// Terms:
//
//   - A study is what a researcher writes: a base model, named datasets,
//     reusable recipes, pipelines (ordered training steps, one per model to
//     compare) and evaluations.
//   - A plan is the compiled DAG: nodes of kind data, pretrain, sft, dpo,
//     eval, safety and report, sorted by readable IDs, identified by the
//     digest of its canonical encoding.
//   - A preimage is the canonical description of one node's work (kind,
//     implementation digest, params minus execution-only fields, input
//     content digests); its digest is the node's cache key.
package study

import _ "crypto/sha256" // registers sha256 for go-digest
