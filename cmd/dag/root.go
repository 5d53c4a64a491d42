package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dagproject/dag/internal/telemetry"
)

// globals holds the flags every command accepts (docs/cli.md, "Settings").
type globals struct {
	home      string
	store     string
	temporal  string
	namespace string
	json      bool
	tls       tlsFlags
	tel       *telemetry.Providers // set by commands that start telemetry

	stdout io.Writer
	stderr io.Writer
}

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "dag",
		Short:         "Run alignment studies of language models as cached DAGs",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return g.resolve()
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	f := root.PersistentFlags()
	f.StringVar(&g.home, "home", "", "folder for all local state (env DAG_HOME; default ./.dag)")
	f.StringVar(&g.store, "store", "", "artifact store URI: file://DIR or s3://BUCKET/PREFIX (env DAG_STORE; default file://<home>/store)")
	f.StringVar(&g.temporal, "temporal", "", "Temporal frontend HOST:PORT (env DAG_TEMPORAL_ADDRESS; unset = embedded server)")
	f.StringVar(&g.namespace, "namespace", "", "namespace for Temporal and cache keys (default \"default\")")
	f.BoolVar(&g.json, "json", false, "print exactly one JSON document on stdout")
	g.tls.register(f)

	root.AddCommand(
		newPlanCommand(g),
		newSubmitCommand(g),
		newStatusCommand(g),
		newCancelCommand(g),
		newRetryCommand(g),
		newReportCommand(g),
		newPluginsCommand(g),
		newEvalCommand(g),
		newCacheCommand(g),
		newServerCommand(g),
		newWorkerCommand(g),
	)
	return root
}

// resolve fills defaults from the environment, once flags are parsed.
func (g *globals) resolve() error {
	if g.home == "" {
		g.home = os.Getenv("DAG_HOME")
	}
	if g.home == "" {
		g.home = ".dag"
	}
	abs, err := filepath.Abs(g.home)
	if err != nil {
		return fmt.Errorf("home %q: %w", g.home, err)
	}
	g.home = abs
	if g.store == "" {
		g.store = os.Getenv("DAG_STORE")
	}
	if g.store == "" {
		g.store = "file://" + filepath.Join(g.home, "store")
	}
	if g.temporal == "" {
		g.temporal = os.Getenv("DAG_TEMPORAL_ADDRESS")
	}
	if g.namespace == "" {
		g.namespace = os.Getenv("DAG_NAMESPACE")
	}
	if g.namespace == "" {
		g.namespace = "default"
	}
	g.tls.resolve()
	if strings.ContainsAny(g.namespace, "/ \t\n") {
		return fmt.Errorf("namespace %q: must not contain '/' or spaces", g.namespace)
	}
	return nil
}

// printJSON writes v as the one JSON document of a --json command.
func (g *globals) printJSON(v any) error {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
