package study

import (
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/errdefs"
)

func sftNode() *Node {
	return &Node{
		ID: "sft/a", Kind: KindSFT, Plugin: "tinylm",
		Params: map[string]any{
			"learning_rate": 2e-4, "epochs": int64(1), "log_every": int64(10),
			"lora": map[string]any{"rank": int64(8), "alpha": 16.0, "dropout_seed": int64(3)},
			"name": "<a & b>",
		},
		Inputs: []Input{{Name: "data", Node: "data/a", Output: OutData}, {Name: "model", Node: "pretrain/base", Output: OutModel}},
	}
}

var (
	impl    = Impl{Name: "tinylm", Digest: digest.FromString("plugin binary"), Protocol: 1}
	dData   = digest.FromString("data")
	dModel  = digest.FromString("model")
	sftKeys = map[string]digest.Digest{"data": dData, "model": dModel}
)

// TestPreimageEncoding pins the key encoding: if this changes, every cache
// entry users have is orphaned, so KeyFormat must be bumped with it.
func TestPreimageEncoding(t *testing.T) {
	pre, err := NewPreimage("default", sftNode(), impl, []string{"log_every", "lora.dropout_seed"}, sftKeys)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"format":"dag-key/1","impl":{"digest":"sha256:062fe192389ca66290320cc0af9cf2d3d0326687375f047dde9537f3bcfb7198","name":"tinylm","protocol":1},` +
		`"inputs":{"data":"sha256:3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7","model":"sha256:9372c470eeadd5ecd9c3c74c2b3cb633f8e2f2fad799250a0f70d652b6b825e4"},` +
		`"kind":"sft","namespace":"default","params":{"epochs":1,"learning_rate":0.0002,"lora":{"alpha":16,"rank":8},"name":"<a & b>"}}`
	got := string(pre.Encode())
	if got != want {
		t.Fatalf("preimage encoding changed:\n got: %s\nwant: %s", got, want)
	}
	if pre.Key() != digest.FromString(want) {
		t.Fatalf("key is not the digest of the preimage")
	}
}

func TestKeyIgnoresExecutionOnlyAndNumberSpelling(t *testing.T) {
	a := sftNode()
	b := sftNode()
	b.Params["log_every"] = int64(1000) // execution-only
	b.Params["learning_rate"] = 0.0002  // same number, other spelling
	b.Params["epochs"] = 1.0            // integral float
	b.Params["lora"].(map[string]any)["alpha"] = int64(16)
	exec := []string{"log_every", "lora.dropout_seed"}
	ka := mustKey(t, a, exec, sftKeys)
	kb := mustKey(t, b, exec, sftKeys)
	if ka != kb {
		t.Fatalf("equal meaning, different keys: %s %s", ka, kb)
	}
	b.Params["learning_rate"] = 1e-4
	if mustKey(t, b, exec, sftKeys) == ka {
		t.Fatal("a changed learning rate kept the key")
	}
	if mustKey(t, a, nil, sftKeys) == ka {
		t.Fatal("without the execution-only list, log_every should enter the key")
	}
	other := map[string]digest.Digest{"data": digest.FromString("other"), "model": dModel}
	if mustKey(t, a, exec, other) == ka {
		t.Fatal("changed input content kept the key")
	}
	if k, _ := NewPreimage("team-b", a, impl, exec, sftKeys); k.Key() == ka {
		t.Fatal("namespace does not enter the key")
	}
	if _, ok := a.Params["log_every"]; !ok {
		t.Fatal("keying modified the node's params")
	}
}

func TestPreimageNeedsEveryInput(t *testing.T) {
	_, err := NewPreimage("default", sftNode(), impl, nil, map[string]digest.Digest{"data": dData})
	if !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("missing input: got %v, want FailedPrecondition", err)
	}
	_, err = NewPreimage("default", sftNode(), impl, nil, map[string]digest.Digest{"data": dData, "model": "sha256:nothex"})
	if !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad digest: got %v, want InvalidArgument", err)
	}
}

func TestDiffNamesChangedFields(t *testing.T) {
	a := sftNode()
	b := sftNode()
	b.Params["learning_rate"] = 1e-4
	delete(b.Params, "name")
	b.Params["warmup"] = int64(5)
	pa, _ := NewPreimage("default", a, impl, nil, sftKeys)
	pb, _ := NewPreimage("default", b, impl, nil, map[string]digest.Digest{"data": digest.FromString("v2"), "model": dModel})
	changes, err := Diff(pa.Encode(), pb.Encode())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Change{}
	for _, c := range changes {
		got[c.Path] = c
	}
	if len(changes) != 4 {
		t.Fatalf("want 4 changes, got %v", changes)
	}
	if c := got["params.learning_rate"]; c.Old != "0.0002" || c.New != "0.0001" {
		t.Errorf("learning_rate: %+v", c)
	}
	if c := got["inputs.data"]; c.Old != dData.String() || c.New != digest.FromString("v2").String() {
		t.Errorf("inputs.data: %+v", c)
	}
	if c := got["params.name"]; c.New != "" || c.Old == "" {
		t.Errorf("removed field: %+v", c)
	}
	if c := got["params.warmup"]; c.Old != "" || c.New != "5" {
		t.Errorf("added field: %+v", c)
	}
}

func TestCanonicalNumbers(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1.0, "a": 2e-4}, `{"a":0.0002,"b":1}`},
		{[]any{1e21, 1.5, int64(-3), 0.1}, `[1e+21,1.5,-3,0.1]`},
		{map[string]any{"s": "<&>\n"}, `{"s":"<&>\n"}`},
	} {
		got, err := Canonical(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tc.want {
			t.Errorf("Canonical(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func mustKey(t *testing.T, n *Node, exec []string, in map[string]digest.Digest) digest.Digest {
	t.Helper()
	p, err := NewPreimage("default", n, impl, exec, in)
	if err != nil {
		t.Fatal(err)
	}
	return p.Key()
}

// TestDecodedPlanKeysMatch: a plan stored and read back (as workers do)
// yields the same digest and the same keys as the compiled one.
func TestDecodedPlanKeysMatch(t *testing.T) {
	raw, _ := os.ReadFile("testdata/golden/shared-prefix.txt")
	spec, _, _ := strings.Cut(string(raw), goldenSep)
	s, err := Parse("shared", []byte(spec), "testdata/golden")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	q, err := DecodePlan(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if q.Digest() != p.Digest() {
		t.Fatalf("digest changed by a round trip: %s %s", p.Digest(), q.Digest())
	}
	for _, n := range p.Nodes {
		m, ok := q.Node(n.ID)
		if !ok {
			t.Fatalf("node %s lost", n.ID)
		}
		in := map[string]digest.Digest{}
		for _, i := range n.Inputs {
			in[i.Name] = digest.FromString(i.Node)
		}
		if n.Source != nil {
			in[InputSource] = digest.FromString(n.Source.URI)
		}
		a, err1 := NewPreimage("default", &n, impl, nil, in)
		b, err2 := NewPreimage("default", m, impl, nil, in)
		if err1 != nil || err2 != nil || a.Key() != b.Key() {
			t.Fatalf("%s: keys differ after a round trip (%v %v)", n.ID, err1, err2)
		}
	}
}
