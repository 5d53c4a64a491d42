"""Model folders.

- A base folder is a Hugging Face model folder: config.json, weights
  (*.safetensors or *.bin) and the tokenizer files.
- An adapter folder holds adapter_config.json and the adapter weights,
  the tokenizer files, dag-hf.json, and its parent model under parent/
  (itself a base or adapter folder): a chain, base first.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from typing import Any, List, Tuple

from .channel import not_found, precondition

ADAPTER_CONFIG = "adapter_config.json"
MARKER = "dag-hf.json"
PARENT = "parent"


def is_adapter(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, ADAPTER_CONFIG))


def resolve(folder: str) -> Tuple[str, List[str]]:
    """(base folder, [adapter folders, outermost last])."""
    if not folder or not os.path.isdir(folder):
        raise not_found("model %s: no such folder" % folder)
    adapters = []
    while is_adapter(folder):
        adapters.insert(0, folder)
        parent = os.path.join(folder, PARENT)
        if not os.path.isdir(parent):
            raise precondition("model %s: an adapter without its parent under %s/" % (folder, PARENT))
        folder = parent
    if not os.path.isfile(os.path.join(folder, "config.json")):
        raise precondition("model %s: no config.json (not a Hugging Face model folder)" % folder)
    return folder, adapters


def summary(folder: str) -> Any:
    """A cheap digest of a model folder for checkpoint fingerprints: every
    file's relative path and size, and the bytes of its JSON files.
    Hashing multi-gigabyte weights on every resume would cost minutes."""
    h = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            h.update(("%s %d\n" % (rel, os.path.getsize(path))).encode())
            if name.endswith(".json"):
                with open(path, "rb") as f:
                    h.update(f.read())
    return "sha256:" + h.hexdigest()


def link_tree(src: str, dst: str) -> None:
    """Copies folder src to dst with hard links where the filesystem allows
    (a parent model costs no space), plain copies otherwise."""

    def copy(s, d):
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=copy)


def write_marker(folder: str, kind: str, merged: bool) -> None:
    with open(os.path.join(folder, MARKER), "w") as f:
        json.dump({"format": "dag-hf-model/1", "kind": kind, "merged": merged,
                   "parent": None if merged else PARENT}, f, indent=2, sort_keys=True)
        f.write("\n")
