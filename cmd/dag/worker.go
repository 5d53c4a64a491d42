package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/dagproject/dag/activities"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/workflows"
)

// workerConfig says which queues a worker polls and how it stops.
type workerConfig struct {
	classes  []plugins.Resource
	identity string
	// drain is how long a stopping worker lets running stages finish
	// before cancelling them (they resume elsewhere from their last
	// checkpoint).
	drain time.Duration
}

func newWorkerCommand(g *globals) *cobra.Command {
	var metricsAddr string
	var queues, identity string
	var drain time.Duration
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker for a Temporal cluster",
		Long: `Run a worker until interrupted. It polls the study workflows' queue and,
for each resource class in --queues, the queue of stages whose plugin has
that class (a gpu worker runs only stages of gpu plugins). It connects to
--temporal (env DAG_TEMPORAL_ADDRESS), or else to the dag server running
for --home. Workers of one cluster share one store (--store, usually S3).

On SIGTERM or interrupt the worker stops taking work and gives running
stages --drain-timeout to finish; stages still running then are cancelled
and retried on another worker, resuming from their last checkpoint.`,
		Args: cobra.NoArgs,
		RunE: g.withTelemetry(&metricsAddr, false, func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			wc, err := parseWorkerConfig(queues, identity, drain)
			if err != nil {
				return err
			}
			addr := g.temporal
			if addr == "" {
				sf, ok := g.liveServer(ctx)
				if !ok {
					return fmt.Errorf("no Temporal address: pass --temporal HOST:PORT (env DAG_TEMPORAL_ADDRESS) or start `dag server` for %s: %w", g.home, errdefs.ErrInvalidArgument)
				}
				addr = sf.Frontend
			}
			c, err := g.dial(ctx, addr)
			if err != nil {
				return err
			}
			defer c.Close()
			stop, err := g.startWorker(ctx, c, wc)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stderr, "dag worker %s: polling %s at %s\n", wc.identity, strings.Join(wc.taskQueues(), ", "), addr)
			<-ctx.Done()
			fmt.Fprintf(g.stderr, "dag worker %s: stopping (draining running stages for up to %s)\n", wc.identity, wc.drain)
			stop()
			return nil
		}),
	}
	cmd.Flags().StringVar(&queues, "queues", "cpu", "resource classes to run stages of, comma-separated: cpu, gpu")
	cmd.Flags().StringVar(&identity, "identity", "", "worker name in the Web UI and producer records (default queues@host:pid)")
	cmd.Flags().DurationVar(&drain, "drain-timeout", 2*time.Minute, "on SIGTERM, how long running stages may finish before they are handed back")
	metricsAddrFlag(cmd, &metricsAddr)
	return cmd
}

// parseWorkerConfig checks --queues and fills defaults.
func parseWorkerConfig(queues, identity string, drain time.Duration) (workerConfig, error) {
	wc := workerConfig{identity: identity, drain: drain}
	seen := map[plugins.Resource]bool{}
	for _, q := range strings.Split(queues, ",") {
		r := plugins.Resource(strings.TrimSpace(q))
		if r == "" {
			continue
		}
		if !r.Valid() {
			return wc, fmt.Errorf("--queues: %q is not a resource class (cpu, gpu): %w", r, errdefs.ErrInvalidArgument)
		}
		if !seen[r] {
			seen[r] = true
			wc.classes = append(wc.classes, r)
		}
	}
	if len(wc.classes) == 0 {
		return wc, fmt.Errorf("--queues: name at least one of cpu, gpu: %w", errdefs.ErrInvalidArgument)
	}
	if wc.identity == "" {
		host, _ := os.Hostname()
		wc.identity = fmt.Sprintf("%s@%s:%d", strings.Join(classNames(wc.classes), "+"), host, os.Getpid())
	}
	return wc, nil
}

func classNames(cs []plugins.Resource) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// taskQueues are the queues the worker polls: the workflows' queue, then
// one per class.
func (wc workerConfig) taskQueues() []string {
	qs := []string{runs.TaskQueue}
	for _, c := range wc.classes {
		qs = append(qs, runs.QueueFor(string(c)))
	}
	return qs
}

// startWorker runs the workflows and activities on this process: one SDK
// worker per task queue, all sharing one Activities (and its plugin
// discovery). The returned stop drains, then stops, every one.
func (g *globals) startWorker(ctx context.Context, c client.Client, wc workerConfig) (func(), error) {
	store, err := g.openStore(ctx)
	if err != nil {
		return nil, err
	}
	acts, err := activities.New(store, g.pluginSearchPath(),
		filepath.Join(g.home, "scratch"), filepath.Join(g.home, "logs"),
		activities.WithWorker(wc.identity, wc.classes...), activities.WithTemporal(c), g.activityTelemetry())
	if err != nil {
		return nil, err
	}
	var started []worker.Worker
	stopAll := func() {
		for i := len(started) - 1; i >= 0; i-- {
			started[i].Stop()
		}
	}
	for i, q := range wc.taskQueues() {
		w := worker.New(c, q, worker.Options{
			Identity: wc.identity,
			// Heartbeats carry live progress (`dag submit --wait`, `dag
			// status`), so they reach the server every couple of
			// seconds, not once a minute.
			MaxHeartbeatThrottleInterval: 2 * time.Second,
			WorkerStopTimeout:            wc.drain,
		})
		if i == 0 {
			w.RegisterWorkflowWithOptions(workflows.Study, workflowOptions())
			w.RegisterWorkflowWithOptions(workflows.Lease, workflow.RegisterOptions{Name: runs.LeaseWorkflow})
		}
		w.RegisterActivity(acts)
		if err := w.Start(); err != nil {
			stopAll()
			return nil, fmt.Errorf("worker on %s: %w", q, err)
		}
		started = append(started, w)
	}
	return stopAll, nil
}

// allClasses is what the embedded server's own worker serves.
var allClasses = []plugins.Resource{plugins.ResourceCPU, plugins.ResourceGPU}

// embeddedWorker is the worker `dag server` runs beside its server.
func embeddedWorker() workerConfig {
	host, _ := os.Hostname()
	return workerConfig{classes: allClasses, identity: fmt.Sprintf("server@%s:%d", host, os.Getpid()), drain: 10 * time.Second}
}
