// Package plugins defines the Go contract between dag and its backend
// plugins: the Plugin interface (Describe, Train, Score) and the plain data
// types that cross it.
//
// Terms:
//
//   - A plugin is an executable named dag-plugin-<name> that serves the
//     protocol of docs/plugins.md. dag starts it, calls it over gRPC, and
//     kills it when done.
//   - A kind is a stage kind a plugin runs: pretrain, sft, dpo, eval or
//     safety.
//   - A resource class (cpu or gpu) says which worker queue its stages need.
//   - Params are one nested JSON object; each Param names a field by its
//     dotted path ("lora.rank"). Execution-only params change how a stage
//     runs but not what it computes, and stay out of cache keys.
//   - A log-likelihood request is a (context, continuation) pair; its result
//     is the summed log-probability of the continuation's tokens, their
//     count, and whether every one was the greedy choice (docs/plugins.md, "Score").
//
// The same interface is implemented by plugin authors (served with
// plugins/sdk) and by the host's client for a launched plugin
// (plugins/host), so code written against it runs in-process or across the
// process boundary alike. Only paths, folders and digests cross it, never
// artifact bytes.
package plugins
