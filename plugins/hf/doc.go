// Package hf is dag's GPU backend: SFT and DPO with LoRA and
// log-likelihood scoring on Hugging Face checkpoints, over PyTorch,
// transformers and peft (docs/gpu.md). cmd/dag-plugin-hf serves it.
//
// The Go side owns the plugin protocol (go-plugin, mTLS, cancellation,
// crash reporting); the model work happens in a Python worker whose
// sources are embedded in this package, so the plugin binary's digest,
// and with it every cache key, changes when they do.
//
// Terms:
//
//   - The worker is `python -m dag_hf_worker`, started once per call from
//     a cache folder holding the embedded sources (named by their digest).
//   - The channel is one JSON request line on the worker's stdin and JSON
//     event lines on its stdout, ending with a done or error event
//     (worker/dag_hf_worker/channel.py documents the shapes). Artifacts
//     travel by path, never over the channel. The worker's stderr is its
//     log.
//   - A crash is a worker that exits without a done or error event: the
//     call fails Unavailable with the exit status and the stderr tail.
//   - A model folder is a Hugging Face folder, or an adapter folder with
//     its parent model under parent/ (a chain, applied base first).
package hf
