// Package activities holds dag's Temporal activities: the I/O half of a
// study run. LoadGraph reads a plan from the store; Lookup computes a
// node's cache key on this worker (with its plugins' digests) and checks
// the store; Run materialises a node's inputs, executes it (built-in data
// preparation, or a plugin's Train) and publishes its outputs.
//
// Only digests and small summaries cross into workflow history; bytes go
// through the store. Errors of class InvalidArgument, FailedPrecondition
// and DataLoss are non-retryable (retrying cannot fix bad input or a
// corrupt blob); everything else retries.
package activities
