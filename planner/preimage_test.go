package planner_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/study"
)

var updatePreimages = flag.Bool("update-preimages", false, "rewrite testdata/preimages-*.txt")

// standIns are the example studies' plugins as Resolve sees them, with
// stand-in digests and an execution-only param each.
var standIns = planner.InstalledPlugins{standIn("tinylm"), standIn("hf")}

func standIn(name string) host.Info {
	return host.Info{
		Description: plugins.Description{Name: name, ProtocolVersion: 1, Kinds: plugins.Kinds, Ready: true,
			Params: []plugins.Param{{Path: "log_every", Type: plugins.TypeInt, ExecutionOnly: true}}},
		Digest: digest.FromString("binary of " + name),
	}
}

// TestExamplePreimages pins the canonical description (the key preimage)
// of every node of the example studies, with plugin digests and input
// digests replaced by stand-ins: a change of how params, implementations
// or built-in versions are encoded would move keys, and fails here. Rewrite
// the files with -update-preimages only for a change that means to move
// keys.
func TestExamplePreimages(t *testing.T) {
	for _, name := range []string{"quickstart", "alignment-study"} {
		t.Run(name, func(t *testing.T) {
			s, err := study.Load(filepath.Join("..", "examples", name, "study.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			p, err := study.Compile(s)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			for _, id := range p.Topo() {
				n, _ := p.Node(id)
				inputs := map[string]digest.Digest{}
				for _, in := range n.Inputs {
					inputs[in.Name] = digest.FromString(in.Node + "/" + in.Output)
				}
				if n.Source != nil {
					inputs[study.InputSource] = digest.FromString("source of " + n.ID)
				}
				r, err := planner.Resolve(context.Background(), n, standIns)
				if err != nil {
					t.Fatal(err)
				}
				pre, err := study.NewPreimage("default", n, r.Impl, r.ExecutionOnly, inputs)
				if err != nil {
					t.Fatal(err)
				}
				out.WriteString(id + "\n" + string(pre.Encode()) + "\n\n")
			}
			path := filepath.Join("testdata", "preimages-"+name+".txt")
			if *updatePreimages {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, out.Bytes()) {
				t.Errorf("preimages of %s changed (keys would move); diff %s against the new encoding:\n%s", name, path, out.String())
			}
		})
	}
}
