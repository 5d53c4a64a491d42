package telemetry

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Providers are what one process records telemetry with.
type Providers struct {
	Tracer     trace.TracerProvider
	Meter      metric.MeterProvider
	Propagator propagation.TextMapPropagator
	// MetricsAddr is the address the Prometheus endpoint listens on (the
	// bound port when Config.MetricsAddr asked for port 0); "" when off.
	MetricsAddr string

	flush    []func(context.Context) error
	shutdown []func(context.Context) error
}

// Propagator is the propagator every dag process uses: W3C trace context
// and baggage.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Default returns the otel global providers (no-ops unless someone
// installed others) with dag's propagator.
func Default() *Providers {
	return &Providers{Tracer: otel.GetTracerProvider(), Meter: otel.GetMeterProvider(), Propagator: Propagator()}
}

// Setup builds the providers cfg asks for; what it does not ask for comes
// from Default. The exporters read their endpoint, headers, TLS and
// timeouts from the OTEL_EXPORTER_OTLP_* variables themselves. Setup does
// not install anything globally.
//
// Errors: an exporter or listener that cannot be set up; nothing is left
// running then. Shutdown must be called on success, to flush and stop.
func Setup(ctx context.Context, cfg Config) (*Providers, error) {
	p := Default()
	if !cfg.Traces && !cfg.Metrics && cfg.MetricsAddr == "" {
		return p, nil
	}
	res, err := newResource(ctx, cfg.Service, cfg.KeepService)
	if err != nil {
		return nil, err
	}
	if cfg.Traces {
		exp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, fmt.Errorf("otlp trace exporter: %w", err)
		}
		span := sdktrace.WithBatcher(exp)
		if cfg.SyncExport {
			span = sdktrace.WithSyncer(exp)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), span)
		p.Tracer = tp
		p.flush = append(p.flush, tp.ForceFlush)
		p.shutdown = append(p.shutdown, tp.Shutdown)
	}
	if cfg.Metrics || cfg.MetricsAddr != "" {
		opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
		if cfg.Metrics {
			exp, err := otlpmetricgrpc.New(ctx)
			if err != nil {
				p.Shutdown(ctx)
				return nil, fmt.Errorf("otlp metric exporter: %w", err)
			}
			opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
		}
		if cfg.MetricsAddr != "" {
			reader, addr, stop, err := servePrometheus(cfg.MetricsAddr)
			if err != nil {
				p.Shutdown(ctx)
				return nil, err
			}
			p.MetricsAddr = addr
			p.shutdown = append(p.shutdown, stop)
			opts = append(opts, sdkmetric.WithReader(reader))
		}
		mp := sdkmetric.NewMeterProvider(opts...)
		p.Meter = mp
		p.flush = append(p.flush, mp.ForceFlush)
		// Shut the provider down before the HTTP server: last in, first out.
		p.shutdown = append(p.shutdown, mp.Shutdown)
	}
	return p, nil
}

// Flush exports what is buffered. It is a no-op for Default providers.
func (p *Providers) Flush(ctx context.Context) error {
	var errs []error
	for _, f := range p.flush {
		errs = append(errs, f(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown flushes and stops what Setup started, in reverse order; it
// returns every error met. It is a no-op for Default providers.
func (p *Providers) Shutdown(ctx context.Context) error {
	var errs []error
	for i := len(p.shutdown) - 1; i >= 0; i-- {
		errs = append(errs, p.shutdown[i](ctx))
	}
	p.shutdown, p.flush = nil, nil
	return errors.Join(errs...)
}

func newResource(ctx context.Context, service string, keep bool) (*resource.Resource, error) {
	if service == "" {
		service = "dag"
	}
	// Later options override earlier ones.
	opts := []resource.Option{
		resource.WithAttributes(attributeServiceName.String(service)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
		resource.WithFromEnv(),
	}
	if keep {
		opts = append(opts, resource.WithAttributes(attributeServiceName.String(service)))
	}
	res, err := resource.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("otel resource: %w", err)
	}
	return res, nil
}
