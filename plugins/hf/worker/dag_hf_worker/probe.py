"""Describe: which packages are importable, without importing them (fast)."""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Dict

# Required packages and what to install for each (pip name).
REQUIRED = (("torch", "torch"), ("transformers", "transformers"), ("peft", "peft"))
OPTIONAL = ("bitsandbytes", "safetensors", "accelerate")


def _version(name):
    try:
        from importlib import metadata
        return metadata.version(name)
    except Exception:  # a package without metadata still imports
        return "unknown"


def describe() -> Dict[str, Any]:
    """Returns {"ready", "problem", "packages"}. With DAG_HF_TEST_LOADER set
    (tests only) the model comes from that loader and only torch is needed."""
    required = REQUIRED
    if os.environ.get("DAG_HF_TEST_LOADER"):
        required = REQUIRED[:1]
    missing = [pip for mod, pip in required if importlib.util.find_spec(mod) is None]
    packages = {}
    for mod, _ in REQUIRED:
        if importlib.util.find_spec(mod) is not None:
            packages[mod] = _version(mod)
    for mod in OPTIONAL:
        if importlib.util.find_spec(mod) is not None:
            packages[mod] = _version(mod)
    problem = ""
    if missing:
        problem = "python packages missing: %s (pip install %s)" % (", ".join(missing), " ".join(missing))
    return {"ready": not missing, "problem": problem, "packages": packages}
