// Package traced decorates an artifacts.Store with OpenTelemetry: a span
// per store operation (under the caller's span; none when the caller has
// no span, so untraced commands do not produce one-span traces) carrying
// the digest or record name and the bytes moved, and metrics for every
// operation: latency by operation and bytes read and written.
//
// A read's span lasts from Open to Close of its reader; a write's from
// Writer to Commit or Close.
package traced
