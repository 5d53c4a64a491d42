package hf

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/sdk"
)

// Params are a stage's parameters after defaults; the worker receives
// them as JSON with these names.
type Params struct {
	Steps           int     `json:"steps"`
	Epochs          int     `json:"epochs"`
	BatchSize       int     `json:"batch_size"`
	LearningRate    float64 `json:"learning_rate"`
	LRScheduler     string  `json:"lr_scheduler"`
	WarmupSteps     int     `json:"warmup_steps"`
	WeightDecay     float64 `json:"weight_decay"`
	MaxGradNorm     float64 `json:"max_grad_norm"`
	Seed            int64   `json:"seed"`
	MaxLength       int     `json:"max_length"`
	MaxPromptLength int     `json:"max_prompt_length"`
	Packing         bool    `json:"packing"`
	PromptTemplate  string  `json:"prompt_template"`

	LoRA struct {
		Rank          int      `json:"rank"`
		Alpha         float64  `json:"alpha"`
		Dropout       float64  `json:"dropout"`
		TargetModules []string `json:"target_modules"`
	} `json:"lora"`
	Beta           float64 `json:"beta"`
	LabelSmoothing float64 `json:"label_smoothing"`

	DType      string `json:"dtype"`
	LoadIn4Bit bool   `json:"load_in_4bit"`
	Merge      bool   `json:"merge"`

	AddBOS         bool `json:"add_bos"`
	ScoreMaxLength int  `json:"score_max_length"`

	// Execution-only.
	LogEvery              int  `json:"log_every"`
	CheckpointEvery       int  `json:"checkpoint_every"`
	MicroBatchSize        int  `json:"micro_batch_size"`
	GradientCheckpointing bool `json:"gradient_checkpointing"`
	ScoreBatchSize        int  `json:"score_batch_size"`
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// paramSpec is the schema Describe reports, and the defaults parseParams
// applies.
var paramSpec = []plugins.Param{
	{Path: "steps", Type: plugins.TypeInt, Default: raw("0"), Description: "optimizer steps; 0 means epochs passes over the data"},
	{Path: "epochs", Type: plugins.TypeInt, Default: raw("1"), Description: "passes over the data when steps is 0"},
	{Path: "batch_size", Type: plugins.TypeInt, Default: raw("8"), Description: "sequences (sft) or pairs (dpo) per optimizer step"},
	{Path: "learning_rate", Type: plugins.TypeFloat, Default: raw("0.0001"), Description: "AdamW learning rate"},
	{Path: "lr_scheduler", Type: plugins.TypeString, Default: raw(`"constant"`), Description: "after warmup: constant or cosine (to zero at the last step)"},
	{Path: "warmup_steps", Type: plugins.TypeInt, Default: raw("0"), Description: "linear learning-rate warmup steps"},
	{Path: "weight_decay", Type: plugins.TypeFloat, Default: raw("0"), Description: "AdamW decoupled weight decay"},
	{Path: "max_grad_norm", Type: plugins.TypeFloat, Default: raw("1"), Description: "clip the global gradient norm to this; 0 never"},
	{Path: "seed", Type: plugins.TypeInt, Default: raw("1"), Description: "adapter initialisation, data order and dropout seed"},
	{Path: "max_length", Type: plugins.TypeInt, Default: raw("1024"), Description: "most tokens per training sequence (capped at the model's context)"},
	{Path: "max_prompt_length", Type: plugins.TypeInt, Default: raw("0"), Description: "dpo: prompt tokens kept when a pair is too long; 0 means max_length/2"},
	{Path: "packing", Type: plugins.TypeBool, Default: raw("false"), Description: "sft: pack examples into blocks of max_length tokens"},
	{Path: "prompt_template", Type: plugins.TypeString, Default: raw(`"Question: {prompt}\n\nAnswer: "`), Description: "how a prompt is shown; {prompt} and optionally {system}"},
	{Path: "lora.rank", Type: plugins.TypeInt, Default: raw("8"), Description: "LoRA rank"},
	{Path: "lora.alpha", Type: plugins.TypeFloat, Default: raw("16"), Description: "LoRA alpha (scale alpha/rank)"},
	{Path: "lora.dropout", Type: plugins.TypeFloat, Default: raw("0.05"), Description: "LoRA dropout (sft; dpo runs without dropout)"},
	{Path: "lora.target_modules", Type: plugins.TypeList, Default: raw(`["q_proj","v_proj"]`), Description: "module names peft adapts"},
	{Path: "beta", Type: plugins.TypeFloat, Default: raw("0.1"), Description: "dpo: beta of the sigmoid loss"},
	{Path: "label_smoothing", Type: plugins.TypeFloat, Default: raw("0"), Description: "dpo: conservative-DPO label smoothing in [0, 0.5)"},
	{Path: "dtype", Type: plugins.TypeString, Default: raw(`"bfloat16"`), Description: "weights and compute: bfloat16, float16 or float32"},
	{Path: "load_in_4bit", Type: plugins.TypeBool, Default: raw("false"), Description: "load the base in 4-bit NF4 (QLoRA; needs bitsandbytes and CUDA)"},
	{Path: "merge", Type: plugins.TypeBool, Default: raw("false"), Description: "write merged full weights instead of the adapter and its parent"},
	{Path: "add_bos", Type: plugins.TypeBool, Default: raw("false"), Description: "score: BOS before non-empty contexts (lm-eval >= 0.4.9.2); false is v0.4.2"},
	{Path: "score_max_length", Type: plugins.TypeInt, Default: raw("0"), Description: "score: most tokens per request; 0 means the model's max_position_embeddings"},
	{Path: "log_every", Type: plugins.TypeInt, Default: raw("10"), Description: "report metrics every N steps", ExecutionOnly: true},
	{Path: "checkpoint_every", Type: plugins.TypeInt, Default: raw("100"), Description: "write a resumable checkpoint every N steps; 0 never", ExecutionOnly: true},
	{Path: "micro_batch_size", Type: plugins.TypeInt, Default: raw("0"), Description: "rows per forward pass (gradient accumulation); 0 means batch_size", ExecutionOnly: true},
	{Path: "gradient_checkpointing", Type: plugins.TypeBool, Default: raw("false"), Description: "recompute activations in the backward pass to save memory", ExecutionOnly: true},
	{Path: "score_batch_size", Type: plugins.TypeInt, Default: raw("16"), Description: "score: sequences per forward pass", ExecutionOnly: true},
}

// parseParams applies rawParams over the defaults. Unknown fields, wrong
// types and out-of-range values are InvalidArgument.
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
	case p.BatchSize < 1 || p.MicroBatchSize < 0:
		return p, bad("batch_size must be >= 1 and micro_batch_size >= 0")
	case !(p.LearningRate > 0) || p.LearningRate > 10:
		return p, bad("learning_rate %g not in (0, 10]", p.LearningRate)
	case p.LRScheduler != "constant" && p.LRScheduler != "cosine":
		return p, bad("lr_scheduler %q is not constant or cosine", p.LRScheduler)
	case p.WarmupSteps < 0 || p.WeightDecay < 0 || p.MaxGradNorm < 0:
		return p, bad("warmup_steps, weight_decay and max_grad_norm must be >= 0")
	case p.MaxLength < 2 || p.MaxPromptLength < 0 || p.MaxPromptLength >= p.MaxLength:
		return p, bad("max_length must be >= 2 and max_prompt_length in [0, max_length)")
	case !strings.Contains(p.PromptTemplate, "{prompt}"):
		return p, bad("prompt_template %q has no {prompt}", p.PromptTemplate)
	case p.LoRA.Rank < 1 || !(p.LoRA.Alpha > 0) || p.LoRA.Dropout < 0 || p.LoRA.Dropout >= 1:
		return p, bad("lora.rank must be >= 1, lora.alpha > 0 and lora.dropout in [0, 1)")
	case len(p.LoRA.TargetModules) == 0:
		return p, bad("lora.target_modules is empty")
	case !(p.Beta > 0) || p.LabelSmoothing < 0 || p.LabelSmoothing >= 0.5:
		return p, bad("beta must be > 0 and label_smoothing in [0, 0.5)")
	case p.DType != "bfloat16" && p.DType != "float16" && p.DType != "float32":
		return p, bad("dtype %q is not bfloat16, float16 or float32", p.DType)
	case p.ScoreMaxLength < 0:
		return p, bad("score_max_length must be >= 0")
	case p.LogEvery < 1 || p.CheckpointEvery < 0 || p.ScoreBatchSize < 1:
		return p, bad("log_every and score_batch_size must be >= 1, checkpoint_every >= 0")
	}
	return p, nil
}

// key is p without its execution-only fields, canonical: it enters the
// worker's checkpoint fingerprints, so a checkpoint resumes under any
// logging or batching settings.
func (p Params) key() string {
	b, err := sdk.WithoutExecutionOnly(paramSpec, p)
	if err != nil {
		panic(err)
	}
	return string(b)
}
