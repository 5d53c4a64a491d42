package datasets

import (
	"fmt"
	"math"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// converter turns source records into the records stages read. convert
// emits zero or more records for rec; it returns a problem when rec is
// unusable (a bad record) or a drop reason when a filter left it out.
// finish emits what needs every record first (SHP's SFT mode).
type converter interface {
	convert(rec record, emit func(any)) (drop, problem string)
	finish(emit func(any))
}

// schemas are the public benchmark and safety schemas (docs/metrics.md, "Prompts" and "The safety score"):
// their records pass through unchanged once the fields the evaluation
// reads are present.
var schemas = map[string][]string{
	"arc":        {"question", "choices", "answerKey"},
	"piqa":       {"goal", "sol1", "sol2", "label"},
	"hellaswag":  {"activity_label", "ctx_a", "ctx_b", "endings", "label"},
	"mmlu":       {"question", "choices", "answer"},
	"toxigen":    {"text", "toxicity_ai", "toxicity_human"},
	"truthfulqa": {"question", "mc2_targets"},
	"safenlp":    {"id", "text", "toxicity_score", "label", "target_groups"},
}

// The HH / DPO-paper template (docs/metrics.md, "Training data formats"), the default for adapters that
// build prompts.
const (
	human     = "\n\nHuman: "
	assistant = "\n\nAssistant:"
)

// newConverter returns the adapter's converter with its options checked.
// An unknown adapter or a bad option is InvalidArgument.
func newConverter(adapter string, options map[string]any) (converter, error) {
	o := optionReader{adapter: adapter, m: options}
	var c converter
	switch adapter {
	case "sft-jsonl":
		c = &fieldsConverter{required: []string{"prompt", "response"}, optional: []string{"system"}}
	case "pref-jsonl":
		c = &fieldsConverter{required: []string{"prompt", "chosen", "rejected"}, optional: []string{"system"}}
	case "shp":
		c = &shpConverter{
			sft:        o.enum("mode", "pref") == "sft",
			minRatio:   o.number("score_ratio", 2),
			maxPerPost: o.int("max_pairs_per_post", 5),
			raw:        o.enum("template", "hh") == "raw",
			pairs:      map[string]int{},
			best:       map[string]*shpBest{},
		}
	case "hh-rlhf":
		c = &hhConverter{sft: o.enum("mode", "pref") == "sft"}
	case "lima":
		c = &limaConverter{raw: o.enum("template", "hh") == "raw", first: o.enum("turns", "all") == "first"}
	case "openorca":
		c = &orcaConverter{raw: o.enum("template", "hh") == "raw"}
	default:
		fields, ok := schemas[adapter]
		if !ok {
			return nil, fmt.Errorf("unknown adapter %q: %w", adapter, errdefs.ErrInvalidArgument)
		}
		c = &schemaConverter{required: fields}
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// optionReader reads an adapter's options, remembering the first problem.
// Defaults live in the calls (documented in docs/study.md).
type optionReader struct {
	adapter string
	m       map[string]any
	err     error
}

func (o *optionReader) fail(name, want string) {
	if o.err == nil {
		o.err = fmt.Errorf("adapter %s: option %s: %v: want %s: %w", o.adapter, name, o.m[name], want, errdefs.ErrInvalidArgument)
	}
}

func (o *optionReader) check() error {
	if o.err != nil {
		return o.err
	}
	schema := study.AdapterOptions[o.adapter]
	for name := range o.m {
		if _, ok := schema[name]; !ok && name != "skip_bad" {
			return fmt.Errorf("adapter %s has no option %q: %w", o.adapter, name, errdefs.ErrInvalidArgument)
		}
	}
	return nil
}

func (o *optionReader) enum(name, def string) string {
	v, ok := o.m[name]
	if !ok {
		return def
	}
	s, _ := v.(string)
	if allowed := study.AdapterOptions[o.adapter][name]; s == "" || !strings.Contains("|"+allowed+"|", "|"+s+"|") {
		o.fail(name, "one of "+allowed)
	}
	return s
}

func (o *optionReader) number(name string, def float64) float64 {
	v, ok := o.m[name]
	if !ok {
		return def
	}
	f, ok := study.Number(v)
	if !ok || f < 0 {
		o.fail(name, "a number >= 0")
	}
	return f
}

func (o *optionReader) int(name string, def int) int {
	v, ok := o.m[name]
	if !ok {
		return def
	}
	f, ok := study.Number(v)
	if !ok || f < 0 || f != math.Trunc(f) {
		o.fail(name, "a whole number >= 0")
	}
	return int(f)
}

func skipBad(options map[string]any) bool {
	b, _ := options["skip_bad"].(bool)
	return b
}

// str reads a string field.
func str(rec record, name string) (string, string) {
	v, ok := rec[name]
	if !ok || v == nil {
		return "", fmt.Sprintf("missing field %q", name)
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Sprintf("field %q is not a string", name)
	}
	return s, ""
}

// num reads a numeric field.
func num(rec record, name string) (float64, string) {
	v, ok := rec[name]
	if !ok || v == nil {
		return 0, fmt.Sprintf("missing field %q", name)
	}
	f, ok := study.Number(v)
	if !ok {
		return 0, fmt.Sprintf("field %q is not a number", name)
	}
	return f, ""
}

// strs reads several string fields, stopping at the first problem.
func strs(rec record, names ...string) ([]string, string) {
	out := make([]string, len(names))
	for i, n := range names {
		s, p := str(rec, n)
		if p != "" {
			return nil, p
		}
		out[i] = s
	}
	return out, ""
}

// fieldsConverter keeps only the named string fields: sft-jsonl and
// pref-jsonl, the users' own data already in the normalized shape.
type fieldsConverter struct {
	required, optional []string
}

func (c *fieldsConverter) convert(rec record, emit func(any)) (string, string) {
	out := map[string]string{}
	for i, name := range append(append([]string{}, c.required...), c.optional...) {
		req := i < len(c.required)
		if v, ok := rec[name]; (!ok || v == nil) && !req {
			continue
		}
		s, p := str(rec, name)
		if p != "" {
			return "", p
		}
		if s == "" && req && name != "response" {
			return "", fmt.Sprintf("field %q is empty", name)
		}
		out[name] = s
	}
	emit(out)
	return "", ""
}

func (c *fieldsConverter) finish(func(any)) {}

// schemaConverter passes public-schema records through unchanged.
type schemaConverter struct{ required []string }

func (c *schemaConverter) convert(rec record, emit func(any)) (string, string) {
	for _, name := range c.required {
		if v, ok := rec[name]; !ok || v == nil {
			return "", fmt.Sprintf("missing field %q", name)
		}
	}
	emit(rec)
	return "", ""
}

func (c *schemaConverter) finish(func(any)) {}

var (
	_ converter = (*fieldsConverter)(nil)
	_ converter = (*schemaConverter)(nil)
)
