package tinylm

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/sdk"
)

// Params are a stage's parameters (the study's params: object), after
// defaults. paramSpec marks the execution-only ones.
type Params struct {
	// Architecture of a pretrained model; sft and dpo take the parent's.
	DModel  int `json:"d_model"`
	Layers  int `json:"layers"`
	Heads   int `json:"heads"`
	Context int `json:"context"`

	Steps        int     `json:"steps"`
	Epochs       int     `json:"epochs"`
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"`
	WarmupSteps  int     `json:"warmup_steps"`
	WeightDecay  float64 `json:"weight_decay"`
	MaxGradNorm  float64 `json:"max_grad_norm"`
	Seed         int64   `json:"seed"`
	MaxLength    int     `json:"max_length"`

	LoRA struct {
		Rank          int      `json:"rank"`
		Alpha         float64  `json:"alpha"`
		TargetModules []string `json:"target_modules"`
	} `json:"lora"`
	PromptTemplate string  `json:"prompt_template"`
	Beta           float64 `json:"beta"`
	LabelSmoothing float64 `json:"label_smoothing"`

	// Score only.
	AddBOS bool `json:"add_bos"`

	// Execution-only.
	LogEvery        int `json:"log_every"`
	CheckpointEvery int `json:"checkpoint_every"`
	ScoreBatchSize  int `json:"score_batch_size"`
}

// The pretrain step count when steps is 0.
const defaultPretrainSteps = 200

// paramSpec is the parameter schema Describe reports, and the defaults
// parseParams applies.
var paramSpec = []plugins.Param{
	{Path: "d_model", Type: plugins.TypeInt, Default: raw("64"), Description: "pretrain: model width"},
	{Path: "layers", Type: plugins.TypeInt, Default: raw("2"), Description: "pretrain: transformer blocks"},
	{Path: "heads", Type: plugins.TypeInt, Default: raw("4"), Description: "pretrain: attention heads (divides d_model)"},
	{Path: "context", Type: plugins.TypeInt, Default: raw("128"), Description: "pretrain: most tokens the model sees at once"},
	{Path: "steps", Type: plugins.TypeInt, Default: raw("0"), Description: "optimizer steps; 0 means 200 (pretrain) or epochs over the data (sft, dpo)"},
	{Path: "epochs", Type: plugins.TypeInt, Default: raw("1"), Description: "sft, dpo: passes over the data when steps is 0"},
	{Path: "batch_size", Type: plugins.TypeInt, Default: raw("4"), Description: "sequences (pretrain, sft) or pairs (dpo) per step"},
	{Path: "learning_rate", Type: plugins.TypeFloat, Default: raw("0.001"), Description: "AdamW learning rate (constant after warmup)"},
	{Path: "warmup_steps", Type: plugins.TypeInt, Default: raw("0"), Description: "linear learning-rate warmup steps"},
	{Path: "weight_decay", Type: plugins.TypeFloat, Default: raw("0"), Description: "AdamW decoupled weight decay"},
	{Path: "max_grad_norm", Type: plugins.TypeFloat, Default: raw("1"), Description: "clip the global gradient norm to this; 0 never"},
	{Path: "seed", Type: plugins.TypeInt, Default: raw("1"), Description: "initialisation and data-order seed"},
	{Path: "max_length", Type: plugins.TypeInt, Default: raw("128"), Description: "most input tokens per training sequence (capped at the context); pretrain window length"},
	{Path: "lora.rank", Type: plugins.TypeInt, Default: raw("8"), Description: "sft, dpo: LoRA rank"},
	{Path: "lora.alpha", Type: plugins.TypeFloat, Default: raw("16"), Description: "sft, dpo: LoRA alpha (scale alpha/rank)"},
	{Path: "lora.target_modules", Type: plugins.TypeList, Default: raw(`["q","v"]`), Description: "sft, dpo: adapted modules among q k v o up down (a _proj suffix is accepted)"},
	{Path: "prompt_template", Type: plugins.TypeString, Default: raw(`"Question: {prompt}\n\nAnswer: "`), Description: "sft, dpo: how a prompt is shown; {prompt} and optionally {system}"},
	{Path: "beta", Type: plugins.TypeFloat, Default: raw("0.1"), Description: "dpo: the KL strength beta of the sigmoid loss"},
	{Path: "label_smoothing", Type: plugins.TypeFloat, Default: raw("0"), Description: "dpo: conservative-DPO label smoothing in [0, 0.5)"},
	{Path: "add_bos", Type: plugins.TypeBool, Default: raw("false"), Description: "score: prepend BOS to non-empty contexts (lm-eval >= 0.4.9.2); false is v0.4.2"},
	{Path: "log_every", Type: plugins.TypeInt, Default: raw("10"), Description: "report metrics every N steps", ExecutionOnly: true},
	{Path: "checkpoint_every", Type: plugins.TypeInt, Default: raw("100"), Description: "write a resumable checkpoint every N steps; 0 never", ExecutionOnly: true},
	{Path: "score_batch_size", Type: plugins.TypeInt, Default: raw("32"), Description: "score: sequences per forward pass", ExecutionOnly: true},
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// parseParams applies raw over the defaults. Unknown fields, values of
// the wrong type and out-of-range values are InvalidArgument.
func parseParams(rawParams json.RawMessage) (Params, error) {
	var p Params
	if err := sdk.ParseParams(paramSpec, rawParams, &p); err != nil {
		return p, err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("params: "+format+": %w", append(a, errdefs.ErrInvalidArgument)...)
	}
	switch {
	case p.Steps < 0 || p.Epochs < 1:
		return p, bad("steps must be >= 0 and epochs >= 1")
	case p.BatchSize < 1 || p.BatchSize > 4096:
		return p, bad("batch_size %d not in [1, 4096]", p.BatchSize)
	case !(p.LearningRate > 0) || p.LearningRate > 10:
		return p, bad("learning_rate %g not in (0, 10]", p.LearningRate)
	case p.WarmupSteps < 0 || p.WeightDecay < 0 || p.MaxGradNorm < 0:
		return p, bad("warmup_steps, weight_decay and max_grad_norm must be >= 0")
	case p.MaxLength < 1:
		return p, bad("max_length %d < 1", p.MaxLength)
	case p.LoRA.Rank < 1 || !(p.LoRA.Alpha > 0):
		return p, bad("lora.rank must be >= 1 and lora.alpha > 0")
	case len(p.LoRA.TargetModules) == 0:
		return p, bad("lora.target_modules is empty")
	case !strings.Contains(p.PromptTemplate, "{prompt}"):
		return p, bad("prompt_template %q has no {prompt}", p.PromptTemplate)
	case !(p.Beta > 0):
		return p, bad("beta %g must be > 0", p.Beta)
	case p.LabelSmoothing < 0 || p.LabelSmoothing >= 0.5:
		return p, bad("label_smoothing %g not in [0, 0.5)", p.LabelSmoothing)
	case p.LogEvery < 1 || p.CheckpointEvery < 0 || p.ScoreBatchSize < 1:
		return p, bad("log_every and score_batch_size must be >= 1, checkpoint_every >= 0")
	}
	seen := map[string]bool{}
	for _, m := range p.LoRA.TargetModules {
		c := canonicalModule(m)
		if c == "" {
			return p, bad("lora.target_modules: unknown module %q (want q k v o up down)", m)
		}
		seen[c] = true
	}
	p.LoRA.TargetModules = p.LoRA.TargetModules[:0:0]
	for _, m := range loraModuleNames {
		if seen[m] {
			p.LoRA.TargetModules = append(p.LoRA.TargetModules, m)
		}
	}
	return p, nil
}

// loraSpec returns the adapter layout p asks for.
func (p Params) loraSpec() loraSpec {
	return loraSpec{Rank: p.LoRA.Rank, Alpha: p.LoRA.Alpha, Modules: p.LoRA.TargetModules}
}

// fingerprintJSON is p without its execution-only fields, canonical:
// it enters checkpoint fingerprints.
func (p Params) fingerprintJSON() []byte {
	b, err := sdk.WithoutExecutionOnly(paramSpec, p)
	if err != nil {
		panic(err)
	}
	return b
}
