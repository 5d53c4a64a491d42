package planner_test

import (
	"encoding/json"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/datasets"
	"github.com/dagproject/dag/eval"
	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/study"
)

// TestBuiltinVersionsEnterKeys checks which built-in versions each node
// kind's key carries, and that bumping one moves exactly the keys of the
// nodes that run it: an eval node's task moves its key, a training node's
// key never moves with dag's own code.
func TestBuiltinVersionsEnterKeys(t *testing.T) {
	plugin := study.Impl{Name: "tinylm", Digest: digest.FromString("bin"), Protocol: 1}
	in := map[string]digest.Digest{"model": digest.FromString("m"), "data": digest.FromString("d")}
	nodes := map[string]*study.Node{
		"data":     {ID: "data/shp", Kind: study.KindData, Params: map[string]any{"format": "jsonl", "adapter": "shp"}, Source: &study.Source{URI: "shp.jsonl", Format: "jsonl"}},
		"raw":      {ID: "data/corpus", Kind: study.KindData, Params: map[string]any{"format": "text", "adapter": "text"}, Source: &study.Source{URI: "c.txt", Format: "text"}},
		"eval":     {ID: "eval/mmlu@base", Kind: study.KindEval, Params: map[string]any{"task": "mmlu", "shots": int64(0)}, Inputs: []study.Input{{Name: "data"}, {Name: "model"}}},
		"safety":   {ID: "safety@base", Kind: study.KindSafety, Inputs: []study.Input{{Name: "data"}, {Name: "model"}}},
		"pretrain": {ID: "pretrain/base", Kind: study.KindPretrain, Params: map[string]any{"steps": int64(3)}, Inputs: []study.Input{{Name: "data"}}},
		"sft":      {ID: "sft/a", Kind: study.KindSFT, Params: map[string]any{"steps": int64(3)}, Inputs: []study.Input{{Name: "data"}, {Name: "model"}}},
		"dpo":      {ID: "dpo/a+b", Kind: study.KindDPO, Params: map[string]any{"beta": 0.1}, Inputs: []study.Input{{Name: "data"}, {Name: "model"}}},
		"report":   {ID: "report", Kind: study.KindReport},
	}
	impl := func(n *study.Node) study.Impl {
		if b, ok := planner.Builtin(n); ok {
			return b
		}
		return planner.WithBuiltins(plugin, n)
	}
	key := func(n *study.Node) (digest.Digest, map[string]any) {
		inputs := map[string]digest.Digest{}
		for _, i := range n.Inputs {
			inputs[i.Name] = in[i.Name]
		}
		if n.Source != nil {
			inputs[study.InputSource] = digest.FromString("src")
		}
		pre, err := study.NewPreimage("default", n, impl(n), nil, inputs)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		json.Unmarshal(pre.Encode(), &m)
		return pre.Key(), m["impl"].(map[string]any)
	}
	mmlu, _ := eval.Lookup("mmlu")
	want := map[string]map[string]any{
		"data":   {"datasets.adapter/shp": datasets.AdapterVersion("shp")},
		"eval":   {"eval.task/mmlu": mmlu.Version},
		"safety": {"eval.safenlp": eval.SafeNLPVersion},
	}
	before := map[string]digest.Digest{}
	for name, n := range nodes {
		k, im := key(n)
		before[name] = k
		got, _ := im["builtins"].(map[string]any)
		if len(got) != len(want[name]) {
			t.Errorf("%s: builtins %v, want %v", name, got, want[name])
		}
		for c, v := range want[name] {
			if got[c] != v {
				t.Errorf("%s: builtins[%s] = %v, want %v", name, c, got[c], v)
			}
		}
	}
	if _, im := key(nodes["data"]); im["version"] != datasets.Version {
		t.Errorf("data impl version %v, want datasets.Version %s", im["version"], datasets.Version)
	}

	old := mmlu.Version
	mmlu.Version = old + "-bumped"
	defer func() { mmlu.Version = old }()
	for name, n := range nodes {
		k, _ := key(n)
		if moved := k != before[name]; moved != (name == "eval") {
			t.Errorf("after bumping mmlu's version, %s's key moved: %v", name, moved)
		}
	}
}
