package telemetry

import "strings"

// Config says what a process exports. The zero value exports nothing.
type Config struct {
	// Service is the resource's service.name; OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES override it unless KeepService is set.
	// Default "dag".
	Service string
	// KeepService makes Service win over the environment's service name:
	// a plugin inherits its worker's environment, OTEL_SERVICE_NAME
	// included, but is a service of its own.
	KeepService bool
	// Traces exports spans over OTLP/gRPC to the endpoint the
	// OTEL_EXPORTER_OTLP_* variables name.
	Traces bool
	// Metrics exports metrics over OTLP/gRPC, likewise.
	Metrics bool
	// MetricsAddr, when not empty, serves the metrics in Prometheus text
	// format at http://MetricsAddr/metrics (HOST:PORT; port 0 picks one).
	MetricsAddr string
	// SyncExport exports each span as it ends rather than in batches, for
	// processes that may be killed without warning (plugins).
	SyncExport bool
}

// FromEnv returns the Config the standard OpenTelemetry variables ask for,
// read through getenv (os.Getenv in a main package): traces when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set,
// metrics when OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT is set; OTEL_SDK_DISABLED=true, or
// OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER set to "none", turn them
// off. MetricsAddr and Service are left for the caller.
func FromEnv(getenv func(string) string) Config {
	var c Config
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return c
	}
	all := getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != ""
	c.Traces = (all || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "") && getenv("OTEL_TRACES_EXPORTER") != "none"
	c.Metrics = (all || getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != "") && getenv("OTEL_METRICS_EXPORTER") != "none"
	return c
}
