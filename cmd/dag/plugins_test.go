package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dagproject/dag/internal/gobuild"

	"github.com/dagproject/dag/errdefs"
)

// buildExamplePlugin builds the example plugin into a temporary folder of
// t and returns its path. The plugin is internal to plugins/, so it is
// built by package path.
func buildExamplePlugin(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dag-plugin-example")
	if err := gobuild.Build(context.Background(), "", path, "github.com/dagproject/dag/plugins/internal/exampleplugin/dag-plugin-example"); err != nil {
		t.Fatalf("build example plugin: %v", err)
	}
	return path
}

// installExamplePlugin copies the binary at bin into dir as
// dag-plugin-<name>.
func installExamplePlugin(t *testing.T, bin, dir, name string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(dir, "dag-plugin-"+name)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, src); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func runPlugins(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"plugins"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

type pluginsDoc struct {
	Plugins []struct {
		Name     string   `json:"name"`
		Version  string   `json:"version"`
		Path     string   `json:"path"`
		Digest   string   `json:"digest"`
		Kinds    []string `json:"kinds"`
		Resource string   `json:"resource"`
		Ready    bool     `json:"ready"`
		Problem  string   `json:"problem"`
	} `json:"plugins"`
}

func TestPluginsCommand(t *testing.T) {
	bin := buildExamplePlugin(t)
	home := t.TempDir()
	pathDir := t.TempDir()
	// DAG_PLUGIN_PATH comes before <home>/plugins: its example wins.
	example := installExamplePlugin(t, bin, pathDir, "example")
	installExamplePlugin(t, bin, filepath.Join(home, "plugins"), "example")
	sick := installExamplePlugin(t, bin, filepath.Join(home, "plugins"), "sick")
	if err := os.WriteFile(sick+".problem", []byte("python package torch not installed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DAG_PLUGIN_PATH", filepath.Join(t.TempDir(), "missing")+string(os.PathListSeparator)+pathDir)

	code, stdout, stderr := runPlugins(t, "--home", home, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc pluginsDoc
	var raw map[string][]map[string]any
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Plugins) != 2 {
		t.Fatalf("plugins %+v", doc.Plugins)
	}
	for _, field := range []string{"name", "version", "path", "digest", "kinds", "resource", "ready", "problem"} {
		if _, ok := raw["plugins"][0][field]; !ok {
			t.Errorf("field %q missing from %v", field, raw["plugins"][0])
		}
	}
	ex, sk := doc.Plugins[0], doc.Plugins[1]
	if ex.Name != "example" || ex.Path != example || !ex.Ready || ex.Problem != "" || ex.Resource != "cpu" ||
		!strings.HasPrefix(ex.Digest, "sha256:") || len(ex.Digest) != 71 || ex.Version == "" ||
		strings.Join(ex.Kinds, " ") != "pretrain sft dpo eval safety" {
		t.Errorf("example: %+v", ex)
	}
	if sk.Name != "sick" || sk.Ready || sk.Problem != "python package torch not installed" {
		t.Errorf("sick: %+v", sk)
	}

	code, stdout, stderr = runPlugins(t, "--home", home)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!strings.Contains(lines[1], "example") || !strings.Contains(lines[1], "yes") ||
		!strings.Contains(lines[2], "sick") || !strings.Contains(lines[2], "python package torch not installed") {
		t.Errorf("table:\n%s", stdout)
	}
}

func TestPluginsCommandNone(t *testing.T) {
	t.Setenv("DAG_PLUGIN_PATH", "")
	home := t.TempDir()
	code, stdout, stderr := runPlugins(t, "--home", home, "--json")
	if code != 0 || strings.TrimSpace(stdout) != `{
  "plugins": []
}` {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runPlugins(t, "--home", home)
	if code != 0 || !strings.Contains(stdout, "no plugins found") {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if code, _, _ := runPlugins(t, "extra-arg"); code == 0 {
		t.Error("an argument was accepted")
	}
}

func TestPluginLookup(t *testing.T) {
	home := t.TempDir()
	installExamplePlugin(t, buildExamplePlugin(t), filepath.Join(home, "plugins"), "example")
	t.Setenv("DAG_PLUGIN_PATH", "")
	g := &globals{home: home}
	p := g.plugins()
	info, err := p.Plugin(t.Context(), "example")
	if err != nil {
		t.Fatal(err)
	}
	if info.ProtocolVersion != 1 || !info.Ready || info.Digest.Validate() != nil || strings.Join(info.ExecutionOnlyPaths(), ",") != "crash_at,crash_message,ignore_cancel,spawn_child,step_delay_ms" {
		t.Errorf("plugin %+v", info)
	}
	if _, err := p.Plugin(t.Context(), "hf"); !errdefs.IsNotFound(err) {
		t.Errorf("missing plugin: got %v, want NotFound", err)
	}
}
