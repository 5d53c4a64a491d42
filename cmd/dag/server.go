package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

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
			wc := embeddedWorker()
			if !runWorker {
				wc.classes = nil
			} else if queues != "" {
				parsed, err := parseWorkerConfig(queues, wc.identity, wc.drain)
				if err != nil {
					return err
				}
				wc = parsed
			}
			if v := os.Getenv("DAG_RETENTION"); v != "" && !cmd.Flags().Changed("retention") {
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("DAG_RETENTION=%q: want a duration such as 720h: %w", v, errdefs.ErrInvalidArgument)
				}
				retention = d
			}
			if retention < time.Hour {
				// Temporal refuses less on a namespace that exists.
				return fmt.Errorf("retention %s: want at least 1h: %w", retention, errdefs.ErrInvalidArgument)
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
				resp, err := sess.client.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
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
		}),
	}
	cmd.Flags().DurationVar(&idleExit, "idle-exit", 0, "stop after this long with no running study (0 = never)")
	cmd.Flags().BoolVar(&runWorker, "worker", true, "run a worker in this process (--worker=false: only the server; run `dag worker` beside it)")
	cmd.Flags().StringVar(&queues, "queues", "", "resource classes this process's worker runs (default cpu,gpu)")
	cmd.Flags().DurationVar(&retention, "retention", retention, "how long closed runs stay in Temporal (older ones are read from the store's run records)")
	metricsAddrFlag(cmd, &metricsAddr)
	return cmd
}
