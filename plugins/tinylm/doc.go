// Package tinylm is dag's default model backend: a small byte-level
// decoder-only transformer trained and scored on the CPU with GoMLX's
// pure-Go backend. It runs the stage kinds pretrain, sft (LoRA), dpo
// (LoRA, sigmoid loss), eval and safety (log-likelihood scoring); see
// docs/tinylm.md.
//
// Terms:
//
//   - A model folder holds config.json (Config), model.safetensors (every
//     weight as float32, LoRA adapters merged in) and tokenizer.json.
//     Equal inputs and params give byte-identical folders.
//   - Tokens are bytes (0-255) plus BOS (256) and EOS (257).
//   - A checkpoint folder is a model folder plus the unmerged adapters,
//     the optimizer state and state.json; a run given one as its resume
//     input continues at its step and ends with the same output.
//   - The data order is a function of the seed and the step, so nothing
//     but the step records it.
package tinylm
