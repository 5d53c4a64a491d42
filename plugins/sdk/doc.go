// Package sdk is what a plugin author imports: the Plugin interface to
// implement (aliases of the types of package plugins, which also holds
// their constants and validation), Serve to run it as a dag plugin binary,
// and ScoreBatches for the common part of Score.
//
// A plugin binary is named dag-plugin-<name> and its main is one line:
//
//	func main() { sdk.Serve(mybackend.New()) }
//
// Serve speaks the go-plugin handshake with dag's magic cookie over gRPC
// only; started by hand, the binary says it is a plugin and exits 1.
// Package sdktest connects an implementation to a client over real
// in-process gRPC, so a plugin package tests itself without building a
// binary.
//
// Tracing: with WithTracerProvider, each call from the host is a span in
// the host's trace (its context travels in gRPC metadata), Train and Score
// get a span each, and StartSpan adds phases under them.
//
// Stderr: once Serve runs, os.Stderr is a pipe forwarded to the host over
// gRPC, and its last lines may be lost if the process exits at once. The
// Stderr variable of this package is the process's original standard
// error, which the host reads directly; write crash diagnostics there (the
// standard log package already does).
package sdk
