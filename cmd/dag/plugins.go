package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
)

func newPluginsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "plugins",
		Short: "List installed plugins with version, digest, kinds and readiness",
		Long: `List the installed plugins: binaries named dag-plugin-<name>, searched in
dag's own folder, then each folder of DAG_PLUGIN_PATH, then <home>/plugins
(the first found wins for each name). Each is started once and asked to
describe itself; one that cannot run is still listed, not ready, with the
problem.

The digest is the sha256 of the binary; it enters cache keys.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			infos, err := g.discoverPlugins(cmd.Context())
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(pluginsDocument(infos))
			}
			printPlugins(g.stdout, infos, g.pluginSearchPath())
			return nil
		},
	}
}

// pluginSearchPath is where this dag looks for plugins (docs/cli.md).
func (g *globals) pluginSearchPath() []string {
	exeDir := ""
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		exeDir = filepath.Dir(exe)
	}
	return host.SearchPath(exeDir, os.Getenv("DAG_PLUGIN_PATH"), g.home)
}

// discoverPlugins finds and describes the installed plugins.
func (g *globals) discoverPlugins(ctx context.Context) ([]host.Info, error) {
	return host.Discover(ctx, g.pluginSearchPath())
}

// pluginJSON is one entry of `dag plugins --json` (docs/cli.md).
type pluginJSON struct {
	Name            string   `json:"name"`
	Version         string   `json:"version"`
	Path            string   `json:"path"`
	Digest          string   `json:"digest"`
	ProtocolVersion int      `json:"protocol_version"`
	Kinds           []string `json:"kinds"`
	Resource        string   `json:"resource"`
	Ready           bool     `json:"ready"`
	Problem         string   `json:"problem"`
}

func pluginsDocument(infos []host.Info) any {
	list := make([]pluginJSON, 0, len(infos))
	for _, i := range infos {
		list = append(list, pluginJSON{
			Name:            i.Name,
			Version:         i.Version,
			Path:            i.Path,
			Digest:          i.Digest.String(),
			ProtocolVersion: i.ProtocolVersion,
			Kinds:           kindStrings(i.Kinds),
			Resource:        string(i.Resource),
			Ready:           i.Ready,
			Problem:         i.Problem,
		})
	}
	return struct {
		Plugins []pluginJSON `json:"plugins"`
	}{list}
}

func kindStrings(ks []plugins.Kind) []string {
	out := make([]string, 0, len(ks))
	for _, k := range ks {
		out = append(out, string(k))
	}
	return out
}

func printPlugins(w io.Writer, infos []host.Info, searched []string) {
	if len(infos) == 0 {
		fmt.Fprintf(w, "no plugins found in %s\n", strings.Join(searched, string(os.PathListSeparator)))
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tKINDS\tRESOURCE\tREADY\tDIGEST\tPATH\tPROBLEM")
	for _, i := range infos {
		ready := "yes"
		if !i.Ready {
			ready = "no"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			i.Name, dash(i.Version), dash(strings.Join(kindStrings(i.Kinds), ",")), dash(string(i.Resource)),
			ready, dash(abbreviate(i.Digest.String())), i.Path, dash(i.Problem))
	}
	tw.Flush()
}

// abbreviate shortens sha256:HEX to 12 hex digits.
func abbreviate(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return d
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
