package eval

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Metric names.
const (
	MetricAcc     = "acc"
	MetricAccNorm = "acc_norm"
	MetricMC2     = "mc2"
)

// Doc is one benchmark question after the task's preprocessing.
type Doc struct {
	// Query is doc_to_text: the prompt without description or few-shot
	// examples.
	Query string `json:"query"`
	// Choices are the answer texts without the target delimiter.
	Choices []string `json:"choices"`
	// Gold is the index of the right choice; out of range scores wrong.
	Gold int `json:"gold"`
	// Labels (mc2 only) mark the true choices with 1.
	Labels []int `json:"labels,omitempty"`
	// Subject is MMLU's subject ("" elsewhere): it picks the description
	// and the few-shot examples, and groups the results.
	Subject string `json:"subject,omitempty"`
}

// Task is one benchmark (docs/metrics.md, "Prompts").
type Task struct {
	// Name is the harness task name.
	Name string
	// Version versions what the task computes from a benchmark file and
	// its log-likelihoods: parsing, prompts, few-shot draws, metrics. It
	// enters the key of every eval node of the task (docs/caching.md):
	// bump it whenever any of those changes a result; TestVersions fails
	// until it is.
	Version string
	// Metric is the headline metric: acc, acc_norm or mc2.
	Metric string
	// FirstN draws few-shot examples in stored order (MMLU) rather than by
	// random.Random(1234).sample.
	FirstN bool
	// NoShots pins the few-shot count to 0 (truthfulqa_mc2).
	NoShots bool

	parse       func(rec map[string]json.RawMessage) (Doc, error)
	description func(d Doc) string
}

// TargetDelimiter goes between a context and each choice.
const TargetDelimiter = " "

// FewshotDelimiter separates few-shot examples from each other and from
// the question.
const FewshotDelimiter = "\n\n"

var tasks = map[string]*Task{}

func register(t *Task) { tasks[t.Name] = t }

// Lookup returns the task of a harness name. An unknown name is
// InvalidArgument.
func Lookup(name string) (*Task, error) {
	t, ok := tasks[name]
	if !ok {
		return nil, invalid("task %q: not one of %s", name, strings.Join(TaskNames(), " "))
	}
	return t, nil
}

// TaskNames lists the tasks in sorted order.
func TaskNames() []string {
	var out []string
	for n := range tasks {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Presets give each task's default few-shot count (docs/metrics.md, "Prompts").
var Presets = map[string]map[string]int{
	"harness-default": {"arc_challenge": 0, "piqa": 0, "hellaswag": 0, "mmlu": 0, "toxigen": 0, "truthfulqa_mc2": 0},
	"leaderboard":     {"arc_challenge": 25, "piqa": 0, "hellaswag": 10, "mmlu": 5, "toxigen": 0, "truthfulqa_mc2": 0},
}

// Doc converts one public-schema record. A missing or mistyped field is
// InvalidArgument.
func (t *Task) Doc(rec map[string]json.RawMessage) (Doc, error) {
	d, err := t.parse(rec)
	if err != nil {
		return Doc{}, fmt.Errorf("%s: %w", t.Name, err)
	}
	return d, nil
}

// Description is the text before any few-shot example ("" for most).
func (t *Task) Description(d Doc) string {
	if t.description == nil {
		return ""
	}
	return t.description(d)
}

// target is the few-shot answer text of d.
func (d Doc) target() string {
	if d.Gold >= 0 && d.Gold < len(d.Choices) {
		return d.Choices[d.Gold]
	}
	return ""
}
