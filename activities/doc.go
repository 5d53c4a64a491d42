// Package activities holds dag's Temporal activities: the I/O half of a
// study run. LoadGraph reads a plan from the store; Lookup computes a
// node's cache key on this worker (with its plugins' digests), checks the
// store and, on a miss, claims the key's lease; AwaitLease waits for
// another run's lease, Release ends this run's, and LeaseOver tells the
// lease workflow when its lease has no reason to last; Run materialises
// a node's inputs, executes it (built-in data preparation or report, a
// plugin's Train or Score) and publishes its outputs; RecordRun stores an
// ended run's record. Their inputs and results are package runs' types.
//
// Only digests and small summaries cross into workflow history; bytes go
// through the store. Errors of class InvalidArgument, FailedPrecondition
// and DataLoss are non-retryable (retrying cannot fix bad input or a
// corrupt blob); everything else retries.
package activities
