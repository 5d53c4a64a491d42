package study

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	backendRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
)

// Tasks are the benchmark names a study may evaluate.
var Tasks = []string{"arc_challenge", "piqa", "hellaswag", "mmlu", "toxigen", "truthfulqa_mc2"}

// Presets give each task's default few-shot count.
var Presets = map[string]map[string]int{
	"harness-default": {},
	"leaderboard":     {"arc_challenge": 25, "hellaswag": 10, "mmlu": 5},
}

// Formats are the source file formats.
var Formats = []string{"jsonl", "parquet", "json", "text", "dir"}

// Adapters turn a source's records into what stages consume.
var Adapters = []string{
	"sft-jsonl", "pref-jsonl", "shp", "hh-rlhf", "lima", "openorca", "text",
	"arc", "piqa", "hellaswag", "mmlu", "toxigen", "truthfulqa", "safenlp",
}

// AdapterOptions lists the options each adapter takes, with their type:
// "bool", "int" (>= 0), "number" (>= 0), or "a|b|c" (one of these strings).
// An option an adapter does not list is an error. Every adapter with
// records also takes skip_bad (drop unusable records instead of failing).
// docs/study.md documents them and their defaults.
var AdapterOptions = map[string]map[string]string{
	"shp":      {"mode": "pref|sft", "score_ratio": "number", "max_pairs_per_post": "int", "template": "hh|raw"},
	"hh-rlhf":  {"mode": "pref|sft"},
	"lima":     {"template": "hh|raw", "turns": "all|first"},
	"openorca": {"template": "hh|raw"},
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// validate checks references and values after decoding, adding every
// problem to ps, and resolves dataset sources.
func validate(s *Study, ps *problems) {
	v := &validation{s: s, ps: ps, at: s.Where, datasets: map[string]*Dataset{}, recipes: map[string]*Recipe{}, byKind: map[Kind][]string{}}
	v.header()
	for i := range s.Datasets {
		ds := &s.Datasets[i]
		v.datasets[ds.Name] = ds
		validateDataset(s, ds, ps)
	}
	v.model()
	v.recipeList()
	v.pipelines()
	v.evaluations()
	validateReference(s, ps)
}

// validation checks one study in the order its problems are reported:
// header, datasets, model, recipes, pipelines, evaluations, reference.
type validation struct {
	s        *Study
	ps       *problems
	at       func(path string) Pos
	datasets map[string]*Dataset
	recipes  map[string]*Recipe
	byKind   map[Kind][]string // recipe names by kind
}

// header checks the format version, the name and the backends.
func (v *validation) header() {
	s, at := v.s, v.at
	if s.Version != 1 {
		v.ps.add(at("version"), "version", "must be 1 (the study format version), got %d", s.Version)
	}
	if s.Name == "" {
		v.ps.add(Pos{Line: 1, Col: 1}, "name", "required")
	} else if !nameRE.MatchString(s.Name) {
		v.ps.add(at("name"), "name", "%q: use letters, digits, '.', '_' and '-'", s.Name)
	}
	b := s.Backends
	for _, f := range []struct{ path, v string }{
		{"backends.default", b.Default}, {"backends.pretrain", b.Pretrain}, {"backends.sft", b.SFT},
		{"backends.dpo", b.DPO}, {"backends.eval", b.Eval}, {"backends.safety", b.Safety},
	} {
		v.backend(f.path, f.v)
	}
}

func (v *validation) backend(path, name string) {
	if name != "" && !backendRE.MatchString(name) {
		v.ps.add(v.at(path), path, "backend %q: use lower-case letters, digits, '_' and '-'", name)
	}
}

// dataset checks that path names a defined dataset.
func (v *validation) dataset(path, name string) {
	if name == "" {
		v.ps.add(v.at(path), path, "required: name a dataset")
		return
	}
	if _, ok := v.datasets[name]; !ok {
		v.ps.add(v.at(path), path, "undefined dataset %q%s", name, known(keysOf(v.datasets)))
	}
}

// model checks the base model and resolves its checkpoint.
func (v *validation) model() {
	s, at := v.s, v.at
	m := &s.Model
	if m.Name == "" {
		m.Name = "base"
	} else if !nameRE.MatchString(m.Name) {
		v.ps.add(at("model.name"), "model.name", "%q: use letters, digits, '.', '_' and '-'", m.Name)
	}
	switch {
	case m.Checkpoint != "" && m.Pretrain != nil:
		v.ps.add(at("model"), "model", "set either checkpoint or pretrain, not both")
	case m.Checkpoint == "" && m.Pretrain == nil:
		v.ps.add(at("model"), "model", "required: a checkpoint to start from, or pretrain: {corpus: DATASET}")
	case m.Checkpoint != "":
		src, problem := resolveSource(s.Dir, m.Checkpoint, "dir")
		if problem != "" {
			v.ps.add(at("model.checkpoint"), "model.checkpoint", "%s", problem)
		}
		s.checkpoint = src
	default:
		v.dataset("model.pretrain.corpus", m.Pretrain.Corpus)
	}
}

// recipeList checks each recipe's name, kind, backend and cache setting.
func (v *validation) recipeList() {
	for i := range v.s.Recipes {
		r := &v.s.Recipes[i]
		v.recipes[r.Name] = r
		p := "recipes." + r.Name
		if !nameRE.MatchString(r.Name) {
			v.ps.add(v.at(p+"#name"), p, "recipe name %q: use letters, digits, '.', '_' and '-'", r.Name)
		}
		switch Kind(r.Kind) {
		case KindSFT, KindDPO:
			v.byKind[Kind(r.Kind)] = append(v.byKind[Kind(r.Kind)], r.Name)
		case "":
			v.ps.add(v.at(p), p+".kind", "required: sft or dpo")
		default:
			v.ps.add(v.at(p+".kind"), p+".kind", "%q: want sft or dpo", r.Kind)
		}
		v.backend(p+".backend", r.Backend)
		if r.Cache != "" && r.Cache != CacheNever {
			v.ps.add(v.at(p+".cache"), p+".cache", "%q: want never (or leave it out)", r.Cache)
		}
	}
}

// pipelines checks each pipeline, its steps, and that from: has no cycle.
func (v *validation) pipelines() {
	s := v.s
	pipes := map[string]*Pipeline{}
	for i := range s.Pipelines {
		pipes[s.Pipelines[i].Name] = &s.Pipelines[i]
	}
	if len(s.Pipelines) == 0 {
		v.ps.add(v.at("pipelines"), "pipelines", "required: at least one pipeline (one with no steps is the base model)")
	}
	for i := range s.Pipelines {
		pl := &s.Pipelines[i]
		p := "pipelines." + pl.Name
		if !nameRE.MatchString(pl.Name) {
			v.ps.add(v.at(p+"#name"), p, "pipeline name %q: use letters, digits, '.', '_' and '-'", pl.Name)
		}
		if pl.From != "" {
			if _, ok := pipes[pl.From]; !ok {
				v.ps.add(v.at(p+".from"), p+".from", "undefined pipeline %q%s", pl.From, known(keysOf(pipes)))
			}
		}
		for j, st := range pl.Steps {
			v.step(fmt.Sprintf("%s.steps[%d]", p, j), st)
		}
	}
	checkCycles(s, pipes, v.ps)
}

// step checks one pipeline step: one kind and dataset, and a recipe that
// exists, is of its kind, and is named when several could apply.
func (v *validation) step(sp string, st Step) {
	at := v.at
	if (st.SFT == "") == (st.DPO == "") {
		v.ps.add(at(sp), sp, "a step names exactly one of sft: DATASET or dpo: DATASET")
		return
	}
	kind, ds := st.Kind()
	v.dataset(sp+"."+string(kind), ds)
	if st.Recipe != "" {
		r, ok := v.recipes[st.Recipe]
		switch {
		case !ok:
			v.ps.add(at(sp+".recipe"), sp+".recipe", "undefined recipe %q%s", st.Recipe, known(keysOf(v.recipes)))
		case Kind(r.Kind) != kind:
			v.ps.add(at(sp+".recipe"), sp+".recipe", "recipe %q is %s, the step is %s", st.Recipe, r.Kind, kind)
		}
		return
	}
	switch names := v.byKind[kind]; len(names) {
	case 1:
	case 0:
		v.ps.add(at(sp), sp, "no %s recipe is defined: add one under recipes", kind)
	default:
		v.ps.add(at(sp), sp, "several %s recipes (%s): name one with recipe:", kind, strings.Join(names, ", "))
	}
}

// evaluations checks the preset, each task's data, shots and limit, and
// the safety data.
func (v *validation) evaluations() {
	at := v.at
	ev := &v.s.Evaluations
	if ev.Preset != "" {
		if _, ok := Presets[ev.Preset]; !ok {
			v.ps.add(at("evaluations.preset"), "evaluations.preset", "%q%s", ev.Preset, known(keysOf(Presets)))
		}
	}
	for _, t := range ev.Tasks {
		p := "evaluations.tasks." + t.Name
		if !contains(Tasks, t.Name) {
			v.ps.add(at(p+"#name"), p, "unknown task %q%s", t.Name, known(Tasks))
		}
		v.dataset(p+".data", t.Data)
		if t.Fewshot != "" {
			v.dataset(p+".fewshot", t.Fewshot)
		}
		if t.Shots != nil {
			switch {
			case *t.Shots < 0:
				v.ps.add(at(p+".shots"), p+".shots", "must be >= 0")
			case *t.Shots > 0 && t.Name == "truthfulqa_mc2":
				v.ps.add(at(p+".shots"), p+".shots", "truthfulqa_mc2 is always 0-shot (its prompt has a fixed primer)")
			case *t.Shots > 0 && t.Fewshot == "":
				v.ps.add(at(p+".shots"), p+".shots", "%d shots need a fewshot: dataset", *t.Shots)
			}
		} else if shots := Presets[ev.preset()][t.Name]; shots > 0 && t.Fewshot == "" {
			v.ps.add(at(p), p+".fewshot", "preset %s uses %d shots for %s: name a fewshot: dataset or set shots: 0", ev.preset(), shots, t.Name)
		}
		if t.Limit < 0 {
			v.ps.add(at(p+".limit"), p+".limit", "must be >= 0")
		}
	}
	if ev.Safety != nil {
		v.dataset("evaluations.safety.data", ev.Safety.Data)
	}
}

func (e *Evaluations) preset() string {
	if e.Preset == "" {
		return "harness-default"
	}
	return e.Preset
}

func validateDataset(s *Study, ds *Dataset, ps *problems) {
	p := "datasets." + ds.Name
	at := s.Where
	if !nameRE.MatchString(ds.Name) {
		ps.add(at(p+"#name"), p, "dataset name %q: use letters, digits, '.', '_' and '-'", ds.Name)
	}
	if ds.Format != "" && !contains(Formats, ds.Format) {
		ps.add(at(p+".format"), p+".format", "%q%s", ds.Format, known(Formats))
	}
	if ds.Adapter != "" && !contains(Adapters, ds.Adapter) {
		ps.add(at(p+".adapter"), p+".adapter", "unknown adapter %q%s", ds.Adapter, known(Adapters))
	}
	validateOptions(s, ds, p, ps)
	if ds.Sample.N < 0 {
		ps.add(at(p+".sample.n"), p+".sample.n", "must be >= 0")
	}
	if ds.Source == "" {
		ps.add(at(p), p+".source", "required: a path relative to the study, or an https://, s3:// or hf:// URI")
		return
	}
	src, problem := resolveSource(s.Dir, ds.Source, ds.Format)
	if problem != "" {
		ps.add(at(p+".source"), p+".source", "%s", problem)
		return
	}
	if s.sources == nil {
		s.sources = map[string]*Source{}
	}
	s.sources[ds.Name] = src
}

var remoteSchemes = []string{"https://", "http://", "s3://", "hf://"}

// resolveSource checks a source and returns where its bytes are. A local
// path must exist; a remote one must be well-formed.
func resolveSource(dir, uri, format string) (*Source, string) {
	for _, scheme := range remoteSchemes {
		if strings.HasPrefix(uri, scheme) {
			if problem := checkRemote(uri); problem != "" {
				return nil, problem
			}
			if format == "" {
				format = formatOf(uri)
			}
			if format == "" {
				return nil, fmt.Sprintf("cannot tell the format of %q: set format", uri)
			}
			return &Source{URI: uri, Format: format}, ""
		}
	}
	if strings.Contains(uri, "://") {
		return nil, fmt.Sprintf("unsupported scheme in %q (use a path, https://, s3:// or hf://)", uri)
	}
	path := uri
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, filepath.FromSlash(uri))
	}
	fi, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Sprintf("file not found: %s", path)
		}
		return nil, err.Error()
	}
	switch {
	case fi.IsDir() && format == "":
		format = "dir"
	case fi.IsDir() && format != "dir":
		return nil, fmt.Sprintf("%s is a folder but format is %s", path, format)
	case !fi.IsDir() && format == "dir":
		return nil, fmt.Sprintf("%s is a file but format is dir", path)
	case format == "":
		format = formatOf(path)
		if format == "" {
			return nil, fmt.Sprintf("cannot tell the format of %s from its extension: set format", path)
		}
	}
	return &Source{URI: uri, Format: format, Path: path}, ""
}

func checkRemote(uri string) string {
	rest, ok := strings.CutPrefix(uri, "hf://")
	if !ok {
		return ""
	}
	// hf://datasets/OWNER/NAME@REVISION/PATH or hf://OWNER/NAME@REVISION[/PATH]
	parts := strings.SplitN(strings.TrimPrefix(rest, "datasets/"), "/", 3)
	if len(parts) < 2 || parts[0] == "" {
		return fmt.Sprintf("%q: want hf://datasets/OWNER/NAME@REVISION/PATH or hf://OWNER/NAME@REVISION", uri)
	}
	name, rev, found := strings.Cut(parts[1], "@")
	if !found || name == "" || rev == "" {
		return fmt.Sprintf("%q: pin a revision (hf://datasets/OWNER/NAME@REVISION/PATH)", uri)
	}
	if strings.HasPrefix(rest, "datasets/") && (len(parts) < 3 || parts[2] == "") {
		return fmt.Sprintf("%q: name a file in the dataset repository (hf://datasets/OWNER/NAME@REVISION/PATH)", uri)
	}
	return ""
}

func formatOf(path string) string {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".parquet":
		return "parquet"
	case ".json":
		return "json"
	case ".txt", ".text", ".md":
		return "text"
	}
	return ""
}

// checkCycles reports pipelines whose from: chain loops.
func checkCycles(s *Study, pipes map[string]*Pipeline, ps *problems) {
	state := map[string]int{} // 0 unvisited, 1 on stack, 2 done
	reported := map[string]bool{}
	var visit func(name string, stack []string)
	visit = func(name string, stack []string) {
		switch state[name] {
		case 1:
			i := 0
			for stack[i] != name {
				i++
			}
			cycle := append(append([]string{}, stack[i:]...), name)
			key := strings.Join(sortedCopy(cycle[:len(cycle)-1]), ",")
			if !reported[key] {
				reported[key] = true
				p := "pipelines." + cycle[len(cycle)-2] + ".from"
				ps.add(s.Where(p), p, "cycle: %s", strings.Join(cycle, " -> "))
			}
			return
		case 2:
			return
		}
		state[name] = 1
		if pl := pipes[name]; pl != nil && pl.From != "" {
			if _, ok := pipes[pl.From]; ok {
				visit(pl.From, append(stack, name))
			}
		}
		state[name] = 2
	}
	for _, pl := range s.Pipelines {
		visit(pl.Name, nil)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string{}, s...)
	sort.Strings(c)
	return c
}

func keysOf[V any](m map[string]V) []string { return sortedKeys(m) }

// known formats a "(known: a, b)" suffix for undefined-name messages.
func known(names []string) string {
	if len(names) == 0 {
		return " (none defined)"
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// validateOptions checks a dataset's adapter options against
// AdapterOptions.
func validateOptions(s *Study, ds *Dataset, p string, ps *problems) {
	at := s.Where
	if len(ds.Options) == 0 {
		return
	}
	schema := AdapterOptions[ds.Adapter]
	for _, name := range sortedKeys(ds.Options) {
		op := p + ".options." + name
		v := ds.Options[name]
		kind, ok := schema[name]
		if name == "skip_bad" && ds.Adapter != "" && ds.Adapter != "text" {
			kind, ok = "bool", true
		}
		if !ok {
			ps.add(at(op), op, "adapter %q has no option %q%s", ds.Adapter, name, known(keysOf(schema)))
			continue
		}
		switch kind {
		case "bool":
			if _, isBool := v.(bool); !isBool {
				ps.add(at(op), op, "must be true or false")
			}
		case "int":
			if n, isInt := v.(int); !isInt || n < 0 {
				if n64, isInt64 := v.(int64); !isInt64 || n64 < 0 {
					ps.add(at(op), op, "must be a whole number >= 0")
				}
			}
		case "number":
			if f, isNum := Number(v); !isNum || f < 0 {
				ps.add(at(op), op, "must be a number >= 0")
			}
		default:
			if str, isStr := v.(string); !isStr || !contains(strings.Split(kind, "|"), str) {
				ps.add(at(op), op, "must be one of %s", strings.ReplaceAll(kind, "|", ", "))
			}
		}
	}
}

// Number reads a params value as a number: the int64 and float64 that
// decoding and Compile produce, plus int and json.Number for callers that
// decoded params themselves.
func Number(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}
