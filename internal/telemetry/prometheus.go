package telemetry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// attributeServiceName is semconv's service.name, spelled out so the
// package does not pin a semconv version.
const attributeServiceName = attribute.Key("service.name")

// servePrometheus listens on addr and serves /metrics from a registry of
// its own (the process's Go runtime collectors plus the returned reader),
// so that nothing else registered with the Prometheus default registry
// (the embedded Temporal server has its own) leaks in. stop closes the
// listener.
func servePrometheus(addr string) (sdkmetric.Reader, string, func(context.Context) error, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, "", nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("metrics address %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// Serve returns ErrServerClosed after stop; any other error means the
	// endpoint died, which must not take the worker with it.
	go func() { _ = srv.Serve(ln) }()
	return exp, ln.Addr().String(), srv.Shutdown, nil
}
