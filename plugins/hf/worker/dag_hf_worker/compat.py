"""Keyword arguments that differ between transformers 4.x and 5.x (and
between peft releases), chosen by feature detection so that one worker runs
on both. Pure Python: the callers pass the library's functions and
versions, so the choices are testable where the libraries are absent.

What changed (docs/gpu.md, "transformers 5"):

- from_pretrained and _from_config take ``dtype``; ``torch_dtype`` is the
  old name (renamed in 4.56; 5.x still accepts it with a deprecation
  warning; releases before 4.56 know only ``torch_dtype``).
- save_pretrained lost ``safe_serialization`` in 5.0: safetensors is the
  only format. 4.x before 4.35 wrote pickles unless asked.
- gradient_checkpointing_enable takes ``gradient_checkpointing_kwargs``
  since 4.35; without it the checkpoint is the re-entrant one.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable, Dict, Tuple


def version_tuple(version: str) -> Tuple[int, ...]:
    """(major, minor, patch) of a version string such as "5.17.0",
    "4.57.6+cu121" or "5.0.0.dev0"; missing parts are 0, and a string
    without a leading number is (0, 0, 0)."""
    m = re.match(r"\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?", version or "")
    if not m:
        return (0, 0, 0)
    return tuple(int(x) if x else 0 for x in m.groups())


def dtype_keyword(transformers_version: str) -> str:
    """The from_pretrained / _from_config keyword for the weights' dtype."""
    return "dtype" if version_tuple(transformers_version) >= (4, 56, 0) else "torch_dtype"


def accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether fn declares a parameter called name (a **kwargs catch-all
    does not count: transformers 5 passes unknown save_pretrained keywords
    on to the hub upload)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    p = params.get(name)
    return p is not None and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)


def save_kwargs(save_pretrained: Callable[..., Any]) -> Dict[str, Any]:
    """Keywords for a model's save_pretrained so that it writes
    safetensors: nothing on 5.x (always safetensors), safe_serialization on
    4.x."""
    return {"safe_serialization": True} if accepts(save_pretrained, "safe_serialization") else {}


def checkpointing_kwargs(enable: Callable[..., Any]) -> Dict[str, Any]:
    """Keywords for gradient_checkpointing_enable (or peft's
    prepare_model_for_kbit_training): the non-re-entrant checkpoint where
    the function can be told, which needs no inputs that require grad and
    is torch's recommended variant."""
    if accepts(enable, "gradient_checkpointing_kwargs"):
        return {"gradient_checkpointing_kwargs": {"use_reentrant": False}}
    return {}
