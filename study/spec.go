package study

// Study is a decoded study.yaml. Paths in it are as written; Load resolves
// local ones against Dir. Named sections keep their declared order, which is
// the order rows appear in reports.
type Study struct {
	Version     int           `yaml:"version"`
	Name        string        `yaml:"name"`
	Description string        `yaml:"description"`
	Backends    BackendChoice `yaml:"backends"`
	Model       Model         `yaml:"model"`
	Datasets    []Dataset     `yaml:"datasets,keyed"`
	Recipes     []Recipe      `yaml:"recipes,keyed"`
	Pipelines   []Pipeline    `yaml:"pipelines,keyed"`
	Evaluations Evaluations   `yaml:"evaluations"`
	// Reference holds published values (a paper's tables) that reports
	// show beside the measured ones; nil when none.
	Reference *Reference `yaml:"reference"`

	// File is the study file's path and Dir its folder (absolute).
	File string `yaml:"-"`
	Dir  string `yaml:"-"`

	pos        positions
	sources    map[string]*Source // dataset name -> resolved source
	checkpoint *Source            // resolved model.checkpoint
}

// BackendChoice names the plugin that runs each stage kind. Default applies
// to every kind left empty; its own default is "tinylm".
type BackendChoice struct {
	Default  string `yaml:"default"`
	Pretrain string `yaml:"pretrain"`
	SFT      string `yaml:"sft"`
	DPO      string `yaml:"dpo"`
	Eval     string `yaml:"eval"`
	Safety   string `yaml:"safety"`
}

// For returns the backend for a stage kind.
func (b BackendChoice) For(kind Kind) string {
	var v string
	switch kind {
	case KindPretrain:
		v = b.Pretrain
	case KindSFT:
		v = b.SFT
	case KindDPO:
		v = b.DPO
	case KindEval:
		v = b.Eval
	case KindSafety:
		v = b.Safety
	}
	if v == "" {
		v = b.Default
	}
	if v == "" {
		v = DefaultBackend
	}
	return v
}

// DefaultBackend runs every stage kind a study does not assign.
const DefaultBackend = "tinylm"

// Model is the base model: either a checkpoint to start from or a recipe to
// pretrain one from a corpus (for small backends).
type Model struct {
	// Name labels the base model's row in reports (default "base").
	Name string `yaml:"name"`
	// Checkpoint is a local folder or a remote URI of a checkpoint.
	Checkpoint string `yaml:"checkpoint"`
	// Pretrain trains the base model from scratch instead.
	Pretrain *Pretrain `yaml:"pretrain"`
}

// Pretrain describes how to train a base model from a text corpus.
type Pretrain struct {
	Corpus string         `yaml:"corpus"` // a dataset name
	Params map[string]any `yaml:"params"`
}

// Dataset is one named data source and how to read it.
type Dataset struct {
	Name string `yaml:",key"`
	// Source is a path relative to the study file, or https://, s3:// or
	// hf://datasets/OWNER/NAME@REVISION/PATH.
	Source string `yaml:"source"`
	// Format is the file format: jsonl, parquet, text, or dir (a folder
	// taken as is). Empty means: from the file extension.
	Format string `yaml:"format"`
	// Adapter turns the source's records into what stages consume
	// (sft-jsonl, pref-jsonl, shp, hh-rlhf, lima, openorca, text,
	// and the benchmark schemas). Empty means raw.
	Adapter string `yaml:"adapter"`
	// Sample keeps N records chosen with Seed (0 = all).
	Sample Sample `yaml:"sample"`
	// Options are the adapter's filtering options (e.g. score_ratio).
	Options map[string]any `yaml:"options"`
}

// Sample selects a seeded random subset of records.
type Sample struct {
	N    int `yaml:"n"`
	Seed int `yaml:"seed"`
}

// Recipe is a reusable training configuration.
type Recipe struct {
	Name string `yaml:",key"`
	Kind string `yaml:"kind"` // sft or dpo
	// Backend overrides backends.<kind> for this recipe.
	Backend string `yaml:"backend"`
	// Params are free-form and validated against the backend's schema.
	Params map[string]any `yaml:"params"`
	// Cache is "" (cached as usual) or "never": for stages with side
	// effects, executed on every run and never recorded as a result.
	Cache string `yaml:"cache"`
}

// CacheNever is the Recipe.Cache value that turns caching off.
const CacheNever = "never"

// Pipeline is one model to compare: the base model (or another pipeline's
// result, with From) followed by training steps in order. A pipeline with no
// steps is the base model's row.
type Pipeline struct {
	Name  string `yaml:",key"`
	Label string `yaml:"label"` // row label in reports (default: the name)
	From  string `yaml:"from"`  // start from this pipeline's model
	Steps []Step `yaml:"steps"`
}

// Step trains on one dataset. Exactly one of SFT and DPO names the dataset.
type Step struct {
	SFT    string         `yaml:"sft"`
	DPO    string         `yaml:"dpo"`
	Recipe string         `yaml:"recipe"` // optional when one recipe of the kind exists
	Params map[string]any `yaml:"params"` // merged over the recipe's params
}

// Kind returns the step's stage kind and dataset.
func (s Step) Kind() (Kind, string) {
	if s.DPO != "" {
		return KindDPO, s.DPO
	}
	return KindSFT, s.SFT
}

// Evaluations are run on every pipeline's model.
type Evaluations struct {
	// Preset sets default shots: harness-default (all 0) or leaderboard
	// (arc_challenge 25, hellaswag 10, mmlu 5, others 0).
	Preset string  `yaml:"preset"`
	Tasks  []Task  `yaml:"tasks,keyed"`
	Safety *Safety `yaml:"safety"`
}

// Task is one benchmark.
type Task struct {
	Name string `yaml:",key"` // arc_challenge piqa hellaswag mmlu toxigen truthfulqa_mc2
	// Data is the dataset holding the evaluation split.
	Data string `yaml:"data"`
	// Fewshot is the dataset few-shot examples are drawn from.
	Fewshot string `yaml:"fewshot"`
	// Shots overrides the preset's few-shot count.
	Shots *int `yaml:"shots"`
	// Limit evaluates only the first N documents (0 = all).
	Limit int `yaml:"limit"`
}

// Safety is the SafeNLP per-demographic safety score.
type Safety struct {
	Data   string         `yaml:"data"` // dataset of sentences (SafeNLP's toxiGen.json schema)
	Params map[string]any `yaml:"params"`
}
