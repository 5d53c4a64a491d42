"""The Python half of dag's hf backend (docs/gpu.md).

The Go plugin (plugins/hf) embeds these sources, writes them to a cache
folder keyed by their digest, and runs ``python -m dag_hf_worker`` once per
call. The worker reads one request line (JSON) on stdin and writes JSON
event lines on stdout until a terminal event (``done`` or ``error``); see
channel.py for the shapes. Everything else it prints goes to stderr.

Modules, from pure to heavy:

- losses: SFT and DPO losses on log-probabilities (torch only).
- data: records, prompt template, label masking, packing, batch order.
- score: lm-evaluation-harness v0.4 log-likelihood bookkeeping.
- folders: model folders and adapter chains.
- train: the SFT/DPO loop, checkpoints, resume and output.
- hfmodel: the model handle over transformers and peft (imported lazily).
"""
