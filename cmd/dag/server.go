package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/internal/embedded"
	"github.com/dagproject/dag/runs"
)

func newServerCommand(g *globals) *cobra.Command {
	var metricsAddr string
	var idleExit time.Duration
	var runWorker bool
	var queues string
	retention := embedded.DefaultRetention
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the embedded Temporal server, its Web UI and a worker in the foreground",
		Long: `Run the embedded Temporal server (SQLite under home), the Temporal Web UI
and a worker for every queue, until interrupted. Other dag commands with the same home find
it through <home>/server.json. With --idle-exit, it stops after that long
with no running study. Closed runs stay in Temporal for --retention (env
DAG_RETENTION); dag status and dag report read older runs from the
run records in the store.`,
		Args: cobra.NoArgs,
		RunE: g.withTelemetry(&metricsAddr, false, func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if sf, ok := g.liveServer(ctx); ok {
				return fmt.Errorf("a dag server already runs for %s (pid %d, %s)", g.home, sf.PID, sf.Frontend)
			}
			wc, err := serverWorker(runWorker, queues)
			if err != nil {
				return err
			}
			if retention, err = serverRetention(retention, cmd.Flags().Changed("retention")); err != nil {
				return err
			}
			sess, err := g.startEmbedded(ctx, wc, retention)
			if err != nil {
				return err
			}
			defer sess.close()
			fmt.Fprintf(g.stderr, "dag server: web ui %s, home %s\n", sess.ui, g.home)
			if g.json {
				if err := g.printJSON(map[string]string{"ui": sess.ui, "home": g.home}); err != nil {
					return err
				}
			}
			return g.serveUntilIdle(ctx, sess.client, idleExit)
		}),
	}
	cmd.Flags().DurationVar(&idleExit, "idle-exit", 0, "stop after this long with no running study (0 = never)")
	cmd.Flags().BoolVar(&runWorker, "worker", true, "run a worker in this process (--worker=false: only the server; run `dag worker` beside it)")
	cmd.Flags().StringVar(&queues, "queues", "", "resource classes this process's worker runs (default cpu,gpu)")
	cmd.Flags().DurationVar(&retention, "retention", retention, "how long closed runs stay in Temporal (older ones are read from the store's run records)")
	metricsAddrFlag(cmd, &metricsAddr)
	return cmd
}

// serverWorker is the worker the server runs in its process: every class
// (none with runWorker false), or the classes queues names.
func serverWorker(runWorker bool, queues string) (workerConfig, error) {
	wc := embeddedWorker()
	switch {
	case !runWorker:
		wc.classes = nil
	case queues != "":
		return parseWorkerConfig(queues, wc.identity, wc.drain)
	}
	return wc, nil
}

// serverRetention is the flag's retention, or DAG_RETENTION's when the
// flag was not given; Temporal refuses less than an hour on a namespace
// that exists.
func serverRetention(flag time.Duration, flagGiven bool) (time.Duration, error) {
	retention := flag
	if v := os.Getenv("DAG_RETENTION"); v != "" && !flagGiven {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("DAG_RETENTION=%q: want a duration such as 720h: %w", v, errdefs.ErrInvalidArgument)
		}
		retention = d
	}
	if retention < time.Hour {
		return 0, fmt.Errorf("retention %s: want at least 1h: %w", retention, errdefs.ErrInvalidArgument)
	}
	return retention, nil
}

// serveUntilIdle returns when ctx ends or, with idleExit > 0, once no
// study has run for that long.
func (g *globals) serveUntilIdle(ctx context.Context, c client.Client, idleExit time.Duration) error {
	idleSince := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
		if idleExit <= 0 {
			continue
		}
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: g.namespace,
			Query:     fmt.Sprintf("WorkflowType = '%s' AND ExecutionStatus = '%s'", runs.StudyWorkflow, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
		})
		if err != nil || resp.GetCount() > 0 {
			idleSince = time.Now()
			continue
		}
		if time.Since(idleSince) > idleExit {
			fmt.Fprintf(g.stderr, "dag server: idle for %s, stopping\n", idleExit)
			return nil
		}
	}
}
