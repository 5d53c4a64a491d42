package study

import (
	"fmt"
	"sort"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Compile turns a validated study into its plan. Identical node
// descriptions collapse into one node (two pipelines that start with the
// same step train it once). IDs are readable and deterministic:
//
//	data/orca              a dataset (data/model:NAME for a checkpoint)
//	pretrain/base          the base model trained from a corpus
//	sft/orca, dpo/orca+hh  training steps, named by their chain of datasets
//	eval/mmlu@dpo-orca+hh  a benchmark on a model
//	safety@sft-orca        the safety score of a model
//	report                 the study's tables
//
// When a study defines several recipes of one kind, chain elements carry
// the recipe (sft/orca:lora-r16); a step with its own params carries a
// short digest of them (sft/orca~1a2b3c).
func Compile(s *Study) (*Plan, error) {
	c := &compiler{s: s, nodes: map[string]*Node{}, descs: map[string]digest.Digest{}}
	return c.compile()
}

type compiler struct {
	s       *Study
	nodes   map[string]*Node
	descs   map[string]digest.Digest // node ID -> description digest
	trained []string                 // training node IDs in the order added
}

// ref is one output of a node.
type ref struct{ node, output string }

// model is a pipeline's resulting model.
type model struct {
	ref
	chain []string // the datasets (with recipe marks) trained on, in order
	slug  string
}

func (c *compiler) compile() (*Plan, error) {
	s := c.s
	base, err := c.baseModel()
	if err != nil {
		return nil, err
	}
	models := map[string]model{}
	var resolve func(name string) (model, error)
	resolve = func(name string) (model, error) {
		if m, ok := models[name]; ok {
			return m, nil
		}
		pl := s.pipeline(name)
		start := base
		if pl.From != "" {
			var err error
			if start, err = resolve(pl.From); err != nil {
				return model{}, err
			}
		}
		m, err := c.trainSteps(pl, start)
		if err != nil {
			return model{}, err
		}
		models[name] = m
		return m, nil
	}

	plan := &Plan{Study: s.Name}
	slugs := map[string]string{} // slug -> model node
	for _, pl := range s.Pipelines {
		m, err := resolve(pl.Name)
		if err != nil {
			return nil, err
		}
		if prev, ok := slugs[m.slug]; ok && prev != m.node {
			return nil, fmt.Errorf("study %s: pipelines %s: model name %q is used twice; rename the base model or a dataset", s.File, pl.Name, m.slug)
		}
		slugs[m.slug] = m.node
		label := pl.Label
		if label == "" {
			label = pl.Name
		}
		plan.Rows = append(plan.Rows, Row{Pipeline: pl.Name, Label: label, Model: m.node, Slug: m.slug})
	}

	results, err := c.evaluations(plan)
	if err != nil {
		return nil, err
	}
	if len(results) > 0 {
		if err := c.report(plan, results); err != nil {
			return nil, err
		}
	}

	ids := make([]string, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	plan.index = make(map[string]int, len(ids))
	for i, id := range ids {
		plan.Nodes = append(plan.Nodes, *c.nodes[id])
		plan.index[id] = i
	}
	if len(plan.Topo()) != len(plan.Nodes) {
		return nil, fmt.Errorf("study %s: the compiled graph has a cycle", s.File)
	}
	return plan, nil
}

// evaluations adds, for each distinct model of the plan's rows, an eval
// node per task and a safety node, and returns their results as the
// report's inputs.
func (c *compiler) evaluations(plan *Plan) ([]Input, error) {
	s := c.s
	var results []Input
	ev := s.Evaluations
	for _, t := range ev.Tasks {
		plan.Tasks = append(plan.Tasks, t.Name)
	}
	seenModel := map[string]bool{}
	for _, row := range plan.Rows {
		if seenModel[row.Model] {
			continue
		}
		seenModel[row.Model] = true
		m := ref{row.Model, OutModel}
		for _, t := range ev.Tasks {
			shots := Presets[ev.preset()][t.Name]
			if t.Shots != nil {
				shots = *t.Shots
			}
			params := ParamsOf(EvalParams{Task: t.Name, Shots: shots, Limit: t.Limit})
			inputs := map[string]ref{InputModel: m, InputData: c.dataset(t.Data)}
			if t.Fewshot != "" && shots > 0 {
				inputs[InputFewshot] = c.dataset(t.Fewshot)
			}
			id, err := c.add(Node{
				ID: "eval/" + t.Name + "@" + row.Slug, Kind: KindEval,
				Plugin: s.Backends.For(KindEval), Params: params,
				Pos: s.Where("evaluations.tasks." + t.Name),
			}, inputs)
			if err != nil {
				return nil, err
			}
			results = append(results, Input{Name: id, Node: id, Output: OutResult})
		}
		if ev.Safety != nil {
			id, err := c.add(Node{
				ID: "safety@" + row.Slug, Kind: KindSafety,
				Plugin: s.Backends.For(KindSafety), Params: ev.Safety.Params,
				Pos: s.Where("evaluations.safety"),
			}, map[string]ref{InputModel: m, InputData: c.dataset(ev.Safety.Data)})
			if err != nil {
				return nil, err
			}
			results = append(results, Input{Name: id, Node: id, Output: OutResult})
		}
	}
	return results, nil
}

// report adds the report node: every evaluation result, and each trained
// model's folder for the training log it carries (plugins.MetricsFile),
// which the report charts.
func (c *compiler) report(plan *Plan, results []Input) error {
	s := c.s
	rp := ReportParams{Rows: []ReportRow{}, Tasks: append([]string{}, plan.Tasks...), Safety: s.Evaluations.Safety != nil, Curves: []ReportCurve{}}
	for _, r := range plan.Rows {
		rp.Rows = append(rp.Rows, ReportRow{Label: r.Label, Model: r.Model, Slug: r.Slug})
	}
	inputs := map[string]ref{}
	for _, in := range results {
		inputs[in.Name] = ref{in.Node, in.Output}
	}
	for _, id := range c.trained {
		rp.Curves = append(rp.Curves, ReportCurve{Node: id, Kind: c.nodes[id].Kind})
		inputs[CurveInput+id] = ref{id, OutModel}
	}
	rp.Reference = referenceParams(s.Reference, plan.Rows)
	_, err := c.add(Node{ID: "report", Kind: KindReport, Params: ParamsOf(rp), Pos: s.Where("evaluations")}, inputs)
	return err
}

func (s *Study) pipeline(name string) *Pipeline {
	for i := range s.Pipelines {
		if s.Pipelines[i].Name == name {
			return &s.Pipelines[i]
		}
	}
	return nil
}

func (s *Study) recipe(name string) *Recipe {
	for i := range s.Recipes {
		if s.Recipes[i].Name == name {
			return &s.Recipes[i]
		}
	}
	return nil
}

// recipeFor returns the step's recipe: the named one, or the only one of
// its kind (validation guarantees one exists).
func (s *Study) recipeFor(st Step) *Recipe {
	if st.Recipe != "" {
		return s.recipe(st.Recipe)
	}
	kind, _ := st.Kind()
	for i := range s.Recipes {
		if Kind(s.Recipes[i].Kind) == kind {
			return &s.Recipes[i]
		}
	}
	return nil
}

func (s *Study) recipeCount(kind Kind) int {
	n := 0
	for _, r := range s.Recipes {
		if Kind(r.Kind) == kind {
			n++
		}
	}
	return n
}

// dataset adds (once) the data node of a dataset and returns its output.
func (c *compiler) dataset(name string) ref {
	id := "data/" + name
	if _, ok := c.nodes[id]; !ok {
		var ds *Dataset
		for i := range c.s.Datasets {
			if c.s.Datasets[i].Name == name {
				ds = &c.s.Datasets[i]
			}
		}
		src := c.s.sources[name]
		dp := DataParams{Format: src.Format, Adapter: ds.Adapter, Options: ds.Options}
		if ds.Sample.N > 0 {
			dp.Sample = &SampleParams{N: ds.Sample.N, Seed: ds.Sample.Seed}
		}
		c.mustAdd(Node{ID: id, Kind: KindData, Params: ParamsOf(dp), Source: src, Pos: c.s.Where("datasets." + name)}, nil)
	}
	return ref{id, OutData}
}

func (c *compiler) baseModel() (model, error) {
	m := c.s.Model
	if m.Pretrain != nil {
		id, err := c.add(Node{
			ID: "pretrain/" + m.Name, Kind: KindPretrain,
			Plugin: c.s.Backends.For(KindPretrain), Params: m.Pretrain.Params,
			Pos: c.s.Where("model.pretrain"),
		}, map[string]ref{InputData: c.dataset(m.Pretrain.Corpus)})
		return model{ref: ref{id, OutModel}, slug: m.Name}, err
	}
	src := c.s.checkpoint
	id := "data/model:" + m.Name
	c.mustAdd(Node{
		ID: id, Kind: KindData, Source: src,
		Params: ParamsOf(DataParams{Format: src.Format, Role: OutModel}),
		Pos:    c.s.Where("model.checkpoint"),
	}, nil)
	return model{ref: ref{id, OutModel}, slug: m.Name}, nil
}

// trainSteps adds a pipeline's training nodes on top of start.
func (c *compiler) trainSteps(pl *Pipeline, start model) (model, error) {
	cur := start
	for i, st := range pl.Steps {
		kind, ds := st.Kind()
		r := c.s.recipeFor(st)
		elem := ds
		if c.s.recipeCount(kind) > 1 {
			elem += ":" + r.Name
		}
		params := mergeParams(r.Params, st.Params)
		if len(st.Params) > 0 {
			b, err := Canonical(st.Params)
			if err != nil {
				return model{}, err
			}
			elem += "~" + digest.FromBytes(b).Encoded()[:6]
		}
		backend := r.Backend
		if backend == "" {
			backend = c.s.Backends.For(kind)
		}
		chain := append(append([]string{}, cur.chain...), elem)
		id, err := c.add(Node{
			ID: string(kind) + "/" + strings.Join(chain, "+"), Kind: kind,
			Plugin: backend, Params: params, NoCache: r.Cache == CacheNever,
			Pos: c.s.Where(fmt.Sprintf("pipelines.%s.steps[%d]", pl.Name, i)),
		}, map[string]ref{InputModel: cur.ref, InputData: c.dataset(ds)})
		if err != nil {
			return model{}, err
		}
		cur = model{ref: ref{id, OutModel}, chain: chain, slug: strings.ReplaceAll(id, "/", "-")}
	}
	return cur, nil
}

// mergeParams overlays step params on recipe params, recursing into maps.
func mergeParams(base, over map[string]any) map[string]any {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = mergeParams(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

func (c *compiler) mustAdd(n Node, inputs map[string]ref) {
	if _, err := c.add(n, inputs); err != nil {
		panic(err)
	}
}

// add inserts a node unless an identical one exists, and returns its ID.
// Two different descriptions under one ID is a compiler bug, reported as
// an error rather than silently merged.
func (c *compiler) add(n Node, inputs map[string]ref) (string, error) {
	n.Params, _ = normalize(n.Params).(map[string]any)
	names := sortedKeys(inputs)
	deps := map[string]bool{}
	for _, name := range names {
		in := inputs[name]
		n.Inputs = append(n.Inputs, Input{Name: name, Node: in.node, Output: in.output})
		deps[in.node] = true
	}
	n.Deps = sortedKeys(deps)
	desc, err := c.describe(n)
	if err != nil {
		return "", err
	}
	if prev, ok := c.descs[n.ID]; ok {
		if prev != desc {
			return "", fmt.Errorf("study %s: two different stages would both be %s", c.s.File, n.ID)
		}
		return n.ID, nil
	}
	c.descs[n.ID] = desc
	c.nodes[n.ID] = &n
	if n.Kind.Trains() {
		c.trained = append(c.trained, n.ID)
	}
	return n.ID, nil
}

// describe digests what a node does, with its inputs by their own
// descriptions, so equal descriptions mean equal work.
func (c *compiler) describe(n Node) (digest.Digest, error) {
	inputs := map[string]any{}
	for _, in := range n.Inputs {
		inputs[in.Name] = map[string]any{"desc": c.descs[in.Node].String(), "output": in.Output}
	}
	d := map[string]any{"kind": n.Kind, "backend": n.Plugin, "params": n.Params, "inputs": inputs}
	if n.Source != nil {
		d["source"] = n.Source.URI
	}
	b, err := Canonical(d)
	if err != nil {
		return "", fmt.Errorf("study %s: node %s: %w", c.s.File, n.ID, err)
	}
	return digest.FromBytes(b), nil
}
