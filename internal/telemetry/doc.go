// Package telemetry sets up OpenTelemetry for dag's processes and defines
// the span attributes and metric instruments the other packages record.
//
// Terms:
//
//   - Providers: the tracer provider, meter provider and propagator one
//     process uses. Setup builds them from a Config; library packages take
//     them through constructors or options, never from the environment.
//   - Export: spans and metrics leave the process only over OTLP/gRPC
//     (configured by the standard OTEL_EXPORTER_OTLP_* variables, which a
//     main package turns into Config with FromEnv) or, for metrics, through a
//     Prometheus endpoint. With neither, Setup returns the otel global
//     providers, which are no-ops unless the embedding program installed
//     its own (tests install in-memory ones there), so an unconfigured
//     process starts no exporter goroutines and records into nothing.
//   - Propagation: W3C trace context plus baggage, always, whatever the
//     otel global propagator is: a trace must cross the CLI, Temporal and
//     the plugin processes even when only one of them exports.
package telemetry
