package planner_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/study"
)

var updatePreimages = flag.Bool("update-preimages", false, "rewrite testdata/preimages-*.txt")

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
				impl, ok := planner.Builtin(n)
				if !ok {
					impl = planner.WithBuiltins(study.Impl{Name: n.Plugin, Digest: digest.FromString("binary of " + n.Plugin), Protocol: 1}, n)
				}
				pre, err := study.NewPreimage("default", n, impl, nil, inputs)
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
