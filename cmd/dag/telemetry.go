package main

import (
	"context"
	"fmt"
	"os"
	"time"

	dagclient "github.com/dagproject/dag/client"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/dagproject/dag/activities"
	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/traced"
	"github.com/dagproject/dag/internal/telemetry"
)

// Telemetry (docs/observability.md): the commands that start work or run
// it set up OpenTelemetry from the standard OTEL_* variables; `dag server`
// and `dag worker` also serve Prometheus metrics at --metrics-addr (env
// DAG_METRICS_ADDR). `dag submit` is the root span of its study's trace:
// Temporal's interceptors carry it into the workflow and every activity,
// and go-plugin's gRPC connection into the plugins. With no variables set
// nothing is exported: the providers are the otel globals, which are
// no-ops unless a program embedding this one (a test) installed others.

const tracerName = "github.com/dagproject/dag/cmd/dag"

// runE is a cobra command's body.
type runE func(cmd *cobra.Command, args []string) error

// withTelemetry wraps a command's body: telemetry is set up before and
// flushed and shut down after. metricsAddr, when not nil, is where
// Prometheus metrics are served (the command's --metrics-addr, else
// DAG_METRICS_ADDR; "" off): the long-running server and worker. span
// makes the command its study's root span (submit).
func (g *globals) withTelemetry(metricsAddr *string, span bool, run runE) runE {
	return func(cmd *cobra.Command, args []string) error {
		addr := ""
		if metricsAddr != nil {
			addr = *metricsAddr
			if addr == "" {
				addr = os.Getenv("DAG_METRICS_ADDR")
			}
		}
		stop, err := g.startTelemetry(cmd.Context(), addr)
		if err != nil {
			return err
		}
		defer stop()
		if !span {
			return run(cmd, args)
		}
		ctx, sp := g.telemetry().Tracer.Tracer(tracerName).Start(cmd.Context(), "dag "+cmd.Name(),
			trace.WithSpanKind(trace.SpanKindClient))
		defer sp.End()
		cmd.SetContext(ctx)
		err = run(cmd, args)
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}

// metricsAddrFlag declares --metrics-addr on a long-running command.
func metricsAddrFlag(cmd *cobra.Command, addr *string) {
	cmd.Flags().StringVar(addr, "metrics-addr", "", "serve Prometheus metrics at http://HOST:PORT/metrics (env DAG_METRICS_ADDR; default off)")
}

// startTelemetry sets up g's providers from the environment, with a
// Prometheus endpoint at metricsAddr unless it is empty. stop flushes and
// shuts them down.
func (g *globals) startTelemetry(ctx context.Context, metricsAddr string) (stop func(), err error) {
	cfg := telemetry.FromEnv(os.Getenv)
	cfg.Service = "dag"
	cfg.MetricsAddr = metricsAddr
	p, err := telemetry.Setup(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("telemetry: %w", err)
	}
	g.tel = p
	if p.MetricsAddr != "" {
		fmt.Fprintf(g.stderr, "dag: metrics at http://%s/metrics\n", p.MetricsAddr)
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// Best effort: telemetry that cannot be delivered must not turn a
		// finished command into a failed one.
		_ = p.Shutdown(sctx)
	}, nil
}

// telemetry returns g's providers: the otel globals for commands that set
// up none.
func (g *globals) telemetry() *telemetry.Providers {
	if g.tel == nil {
		return telemetry.Default()
	}
	return g.tel
}

// temporalTelemetry fills a Temporal client's tracing interceptor (which
// workers made from the client inherit) and SDK metrics.
func (g *globals) temporalTelemetry(opts *client.Options) error {
	p := g.telemetry()
	tr, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:            p.Tracer.Tracer("go.temporal.io/sdk"),
		TextMapPropagator: p.Propagator,
		// `dag submit --wait` and `dag status` query progress every
		// second; those spans would bury the study's own.
		DisableQueryTracing: true,
	})
	if err != nil {
		return fmt.Errorf("temporal tracing: %w", err)
	}
	opts.Interceptors = append(opts.Interceptors, tr)
	opts.MetricsHandler = temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: p.Meter.Meter("go.temporal.io/sdk"),
	})
	return nil
}

// instrumentStore adds spans and metrics to a store.
func (g *globals) instrumentStore(s artifacts.Store) artifacts.Store {
	p := g.telemetry()
	in, err := telemetry.NewInstruments(p.Meter)
	if err != nil {
		// Constant names cannot fail to register in practice; if they
		// do, spans still work and metrics stay off.
		in = nil
	}
	return traced.New(s, p.Tracer, in)
}

// activityTelemetry is the activities' option for g's providers.
func (g *globals) activityTelemetry() activities.Option {
	p := g.telemetry()
	return activities.WithTelemetry(p.Tracer, p.Meter)
}

// noteRun names the study and run on the command's span.
func noteRun(ctx context.Context, r dagclient.RunRef, studyName string) {
	trace.SpanFromContext(ctx).SetAttributes(telemetry.AttrStudy.String(studyName), telemetry.AttrRun.String(r.RunID))
}
