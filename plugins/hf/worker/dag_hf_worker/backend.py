"""Choosing the model handle.

A handle wraps one loaded model for the training loop and the scorer:

- ``tokenizer``: encode(text) without special tokens, bos/eos/pad ids.
- ``device``, ``max_length`` (the model's context), ``n_params``.
- ``logits(input_ids, attention_mask)`` -> [B, T, V].
- ``add_adapter(lora)``: a new trainable LoRA adapter, the rest frozen;
  ``trainable_parameters()``; ``adapter_disabled()``, a context in which
  the model is its parent (the DPO reference).
- ``save_adapter(dir)``, ``load_adapter(dir)`` (checkpoints and output),
  ``save_merged(dir)`` (full weights), ``save_tokenizer(dir)``.
- ``train_mode(dropout)``, ``eval_mode()``.

The production handle is hfmodel's (transformers + peft). Tests set
DAG_HF_TEST_LOADER=module:function to load a tiny torch model instead.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Mapping

from .channel import precondition
from .folders import resolve


def load(folder: str, params: Mapping[str, Any], training: bool) -> Any:
    """Loads the model in folder (an adapter chain is applied and merged).
    Missing packages are failed_precondition."""
    base, adapters = resolve(folder)
    spec = os.environ.get("DAG_HF_TEST_LOADER", "")
    if spec:
        mod, _, fn = spec.partition(":")
        return getattr(importlib.import_module(mod), fn)(base, adapters, params, training)
    try:
        from . import hfmodel
    except ImportError as e:
        raise precondition("python package missing: %s (pip install torch transformers peft)" % e.name)
    return hfmodel.load(base, adapters, params, training)


def setup_torch() -> None:
    """Process-wide torch settings from the environment, before a model
    loads. DAG_HF_DETERMINISTIC=1 asks for deterministic kernels (slower;
    for reproducibility checks): cuBLAS needs CUBLAS_WORKSPACE_CONFIG set
    before CUDA starts, so it is set here when absent. Operations without a
    deterministic kernel warn rather than fail, so that a check can still
    compare what comes out."""
    if os.environ.get("DAG_HF_DETERMINISTIC", "") not in ("", "0"):
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
