// Package artifactstest is the conformance suite of artifacts.Store: every
// backend runs TestStore from its own tests, against real storage.
//
// The suite checks the contracts documented in package artifacts: blobs
// round-trip and are verified on every read, Commit publishes only verified
// bytes, abandoned writes leave nothing visible, concurrent identical
// writes are harmless, corruption is reported as ErrDataLoss, results
// refuse and report missing blobs, and records and refs behave as
// documented. One subtest streams a 1 GiB blob through the store; it runs
// in -short mode too, since large objects are where backends break.
package artifactstest
