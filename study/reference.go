package study

import "strings"

// Reference is a study's published values: the tables of the paper it
// reproduces, shown in reports beside the measured values with the
// difference. Values are fractions in [0, 1], as the report's.
type Reference struct {
	// Source names where the values come from (a title, a URL).
	Source string `yaml:"source"`
	// Benchmarks maps a pipeline name to task: value, for tasks the study
	// evaluates.
	Benchmarks map[string]any `yaml:"benchmarks"`
	// Safety maps a pipeline name to group: value; null marks a group the
	// source found not significant. The study must evaluate safety.
	Safety map[string]any `yaml:"safety"`
}

// validateReference checks the reference block: every pipeline named
// exists, every task is evaluated, safety values need a safety
// evaluation, and every value is a fraction.
func validateReference(s *Study, ps *problems) {
	r := s.Reference
	if r == nil {
		return
	}
	at := s.Where
	pipes := map[string]bool{}
	for _, pl := range s.Pipelines {
		pipes[pl.Name] = true
	}
	var tasks []string
	for _, t := range s.Evaluations.Tasks {
		tasks = append(tasks, t.Name)
	}
	table := func(section string, m map[string]any, column func(path, name string, v any)) {
		for _, name := range sortedKeys(m) {
			p := "reference." + section + "." + name
			if !pipes[name] {
				ps.add(at(p), p, "undefined pipeline %q%s", name, known(keysOf(pipes)))
				continue
			}
			cols, ok := m[name].(map[string]any)
			if !ok {
				ps.add(at(p), p, "expected a mapping of %s: value", map[string]string{"benchmarks": "task", "safety": "group"}[section])
				continue
			}
			for _, col := range sortedKeys(cols) {
				column(p+"."+col, col, cols[col])
			}
		}
	}
	fraction := func(path string, v any) {
		if f, ok := Number(v); !ok || f < 0 || f > 1 {
			ps.add(at(path), path, "must be a number in [0, 1], as the report shows it (0.532, not 53.2)")
		}
	}
	table("benchmarks", r.Benchmarks, func(path, task string, v any) {
		if !contains(tasks, task) {
			ps.add(at(path), path, "task %q is not evaluated by the study (evaluated: %s)", task, strings.Join(tasks, ", "))
			return
		}
		fraction(path, v)
	})
	if len(r.Safety) > 0 && s.Evaluations.Safety == nil {
		ps.add(at("reference.safety"), "reference.safety", "the study evaluates no safety score: add evaluations.safety")
		return
	}
	table("safety", r.Safety, func(path, group string, v any) {
		if v != nil { // null: not significant in the source
			fraction(path, v)
		}
	})
}

// referenceParams is the report node's "reference" param: the study's
// reference with pipelines replaced by their row labels; nil when the
// study declares none.
func referenceParams(r *Reference, rows []Row) map[string]any {
	if r == nil {
		return nil
	}
	label := map[string]string{}
	for _, row := range rows {
		label[row.Pipeline] = row.Label
	}
	relabel := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for name, cols := range m {
			out[label[name]] = cols
		}
		return out
	}
	out := map[string]any{}
	if r.Source != "" {
		out["source"] = r.Source
	}
	if len(r.Benchmarks) > 0 {
		out["benchmarks"] = relabel(r.Benchmarks)
	}
	if len(r.Safety) > 0 {
		out["safety"] = relabel(r.Safety)
	}
	return out
}

// CurveInput prefixes the report node's inputs that are trained models,
// named CurveInput + node ID: the report reads only their training logs.
const CurveInput = "curve:"
