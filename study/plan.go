package study

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/opencontainers/go-digest"
)

// Kind is a node's stage kind.
type Kind string

// The node kinds of a compiled plan (docs/cli.md).
const (
	KindData     Kind = "data"
	KindPretrain Kind = "pretrain"
	KindSFT      Kind = "sft"
	KindDPO      Kind = "dpo"
	KindEval     Kind = "eval"
	KindSafety   Kind = "safety"
	KindReport   Kind = "report"
)

// Trains reports whether nodes of this kind produce a model.
func (k Kind) Trains() bool { return k == KindPretrain || k == KindSFT || k == KindDPO }

// Output names. Every output is a folder stored as a manifest.
const (
	OutData   = "data"   // a data node's prepared records
	OutModel  = "model"  // a trained (or imported) model
	OutResult = "result" // an evaluation's, safety score's or report's result
)

// Plan is a compiled study: an immutable DAG whose nodes are sorted by ID.
// Callers must not modify it; Digest identifies it.
type Plan struct {
	Study string `json:"study"`
	Nodes []Node `json:"nodes"`
	// Rows are the models to compare, in the study's pipeline order.
	Rows []Row `json:"rows"`
	// Tasks are the benchmark names, in the study's order.
	Tasks []string `json:"tasks"`

	index map[string]int
}

// Node is one stage of the plan.
type Node struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Plugin names the plugin that runs the node (the study's `backends:`
	// choose it); empty for the built-in kinds (data, report).
	Plugin string `json:"backend,omitempty"`
	// Params are canonical: numbers normalised, recipe and step merged.
	Params map[string]any `json:"params,omitempty"`
	// Inputs are sorted by name.
	Inputs []Input `json:"inputs,omitempty"`
	// Source is where a data node's bytes come from.
	Source *Source `json:"source,omitempty"`
	// Deps are the IDs of the nodes Inputs read, sorted.
	Deps []string `json:"deps"`
	// NoCache marks a node that is executed on every run and whose result
	// is never recorded (a recipe's `cache: never`).
	NoCache bool `json:"no_cache,omitempty"`
	// Pos is where the study declared what this node does.
	Pos Pos `json:"-"`
}

// Input feeds one output of another node into a node under a name.
type Input struct {
	Name   string `json:"name"`
	Node   string `json:"node"`
	Output string `json:"output"`
}

// Source locates a data node's bytes.
type Source struct {
	// URI is the source as the study wrote it.
	URI string `json:"uri"`
	// Format is the resolved file format (jsonl, parquet, text, json, dir).
	Format string `json:"format"`
	// Path is the absolute local path; empty for remote sources. It is
	// left out of the plan's encoding so the plan does not depend on where
	// the study lives.
	Path string `json:"-"`
}

// Remote reports whether the source must be fetched.
func (s *Source) Remote() bool { return s.Path == "" }

// Row is one model to compare in reports.
type Row struct {
	Pipeline string `json:"pipeline"`
	Label    string `json:"label"`
	Model    string `json:"model"` // the node ID producing the model
	// Slug names the model in eval node IDs (eval/TASK@SLUG).
	Slug string `json:"slug"`
}

// Node returns the node with the given ID.
func (p *Plan) Node(id string) (*Node, bool) {
	i, ok := p.index[id]
	if !ok {
		return nil, false
	}
	return &p.Nodes[i], true
}

// Encode returns the plan's canonical bytes.
func (p *Plan) Encode() []byte {
	b, err := Canonical(p)
	if err != nil {
		panic("study: plan is not canonical: " + err.Error())
	}
	return b
}

// Digest identifies the plan: equal digests mean equal plans.
func (p *Plan) Digest() digest.Digest { return digest.FromBytes(p.Encode()) }

// Topo returns node IDs in an order where every node follows its deps;
// ties are broken by ID so the order is deterministic.
func (p *Plan) Topo() []string {
	indeg := make(map[string]int, len(p.Nodes))
	users := map[string][]string{}
	for _, n := range p.Nodes {
		indeg[n.ID] = len(n.Deps)
		for _, d := range n.Deps {
			users[d] = append(users[d], n.ID)
		}
	}
	var ready, out []string
	for _, n := range p.Nodes {
		if indeg[n.ID] == 0 {
			ready = append(ready, n.ID)
		}
	}
	for len(ready) > 0 {
		sort.Strings(ready)
		id := ready[0]
		ready = ready[1:]
		out = append(out, id)
		for _, u := range users[id] {
			indeg[u]--
			if indeg[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return out
}

// DecodePlan reads a plan from its Encode bytes. Numbers in params come
// back as int64 when integral and float64 otherwise, as Compile made them,
// so keys computed from a decoded plan equal those of the original.
func DecodePlan(b []byte) (*Plan, error) {
	var p Plan
	if err := unmarshalNumbers(b, &p); err != nil {
		return nil, fmt.Errorf("decode plan: %w", err)
	}
	p.index = make(map[string]int, len(p.Nodes))
	for i := range p.Nodes {
		n := &p.Nodes[i]
		if n.Params != nil {
			n.Params, _ = fromJSONNumbers(n.Params).(map[string]any)
		}
		if n.Deps == nil {
			n.Deps = []string{}
		}
		if _, dup := p.index[n.ID]; dup {
			return nil, fmt.Errorf("decode plan: node %s twice", n.ID)
		}
		p.index[n.ID] = i
	}
	for _, n := range p.Nodes {
		for _, d := range n.Deps {
			if _, ok := p.index[d]; !ok {
				return nil, fmt.Errorf("decode plan: node %s depends on unknown %s", n.ID, d)
			}
		}
	}
	return &p, nil
}

// fromJSONNumbers turns json.Number values into int64 or float64.
func fromJSONNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = fromJSONNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = fromJSONNumbers(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}
