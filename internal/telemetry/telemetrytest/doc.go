// Package telemetrytest holds test helpers for code that exports
// telemetry: an in-process OTLP/gRPC receiver, and readers over what it
// received.
package telemetrytest
