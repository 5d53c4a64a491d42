"""Training data: records, the prompt template, tokenisation with label
masking, packing, collation and the batch order.

A tokenizer here is anything with ``encode(text) -> list[int]`` (no special
tokens) and the ids ``bos_token_id``, ``eos_token_id``, ``pad_token_id``
(bos may be None: then nothing is prepended).
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from .channel import invalid, not_found
from .losses import IGNORE

RECORDS = "data.jsonl"
FIELDS = {"sft": ("prompt", "response"), "dpo": ("prompt", "chosen", "rejected")}
OPTIONAL = {"sft": ("system",), "dpo": ("system",)}


def read_records(folder: str, kind: str) -> List[Dict[str, Any]]:
    """Reads <folder>/data.jsonl; returns (records, sha256 of the file).
    A missing file is not_found, a bad record invalid_argument naming the
    file and line."""
    path = os.path.join(folder or "", RECORDS)
    if not folder or not os.path.isfile(path):
        raise not_found("data %s: no %s" % (folder, RECORDS))
    with open(path, "rb") as f:
        raw = f.read()
    want, extra = FIELDS[kind], OPTIONAL[kind]
    out = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except ValueError as e:
            raise invalid("data %s line %d: %s" % (path, n, e))
        if not isinstance(r, dict) or any(not isinstance(r.get(k), str) for k in want) \
                or set(r) - set(want) - set(extra):
            raise invalid("data %s line %d: a %s record is {%s} of strings" % (path, n, kind, ", ".join(want + extra)))
        out.append(r)
    if not out:
        raise invalid("data %s: no records" % path)
    return out, "sha256:" + hashlib.sha256(raw).hexdigest()


def render_prompt(template: str, prompt: str, system: str = "") -> str:
    """{prompt} becomes the prompt and {system} the system message; a system
    message with no {system} in the template goes first, then a blank line."""
    s = template.replace("{prompt}", prompt)
    if "{system}" in template:
        return s.replace("{system}", system)
    return system + "\n\n" + s if system else s


def split_answer(tok: Any, prompt: str, answer: str) -> Tuple[List[int], List[int]]:
    """Token ids of prompt and answer, encoding the whole text and splitting
    it (TRL's build_tokenized_answer): when the last prompt token merges
    with the answer the split moves back one token."""
    full = tok.encode(prompt + answer)
    p = tok.encode(prompt)
    cut = len(p)
    if full[:cut] != p:
        cut -= 1
    cut = max(cut, 0)
    return full[:cut], full[cut:]


def _bos(tok):
    return [tok.bos_token_id] if tok.bos_token_id is not None else []


def sft_example(tok: Any, record: Mapping[str, Any], template: str, max_length: int) -> Optional[Tuple[List[int], List[int]]]:
    """(input_ids, labels) for BOS + prompt + response + EOS, cut to
    max_length keeping the start; labels mask BOS and the prompt, so the
    loss covers the response and EOS (docs/metrics.md, "SFT")."""
    prompt = render_prompt(template, record["prompt"], record.get("system", ""))
    p, a = split_answer(tok, prompt, record["response"])
    p = _bos(tok) + p
    a = a + [tok.eos_token_id]
    ids = (p + a)[:max_length]
    labels = ([IGNORE] * len(p) + a)[:max_length]
    return ids, labels


def count_labels(labels: Sequence[int]) -> int:
    """How many tokens of a row the loss covers (its first label never
    counts: nothing predicts it)."""
    return sum(1 for x in labels[1:] if x != IGNORE)


def has_labels(labels: Sequence[int]) -> bool:
    """Whether a row has a token to learn (its first label never counts:
    nothing predicts it)."""
    return any(x != IGNORE for x in labels[1:])


def pack(examples: Sequence[Tuple[List[int], List[int]]], max_length: int) -> List[Tuple[List[int], List[int]]]:
    """Concatenates examples into blocks of exactly max_length tokens,
    keeping each example's label mask; the remainder is dropped (TRL's
    ConstantLengthDataset, without cross-example attention masking)."""
    ids, labels, out = [], [], []
    for i, l in examples:
        ids.extend(i)
        labels.extend(l)
        while len(ids) >= max_length:
            out.append((ids[:max_length], labels[:max_length]))
            ids, labels = ids[max_length:], labels[max_length:]
    return out


def dpo_example(tok: Any, record: Mapping[str, Any], template: str, max_length: int, max_prompt_length: int) -> Any:
    """((chosen ids, labels), (rejected ids, labels)) as TRL v0.8 builds
    them: BOS + prompt, EOS after each answer; a pair longer than
    max_length keeps the end of the prompt (max_prompt_length tokens, BOS
    first), then cuts the answers."""
    prompt = render_prompt(template, record["prompt"], record.get("system", ""))
    pc, ch = split_answer(tok, prompt, record["chosen"])
    pr, rj = split_answer(tok, prompt, record["rejected"])
    ch, rj = ch + [tok.eos_token_id], rj + [tok.eos_token_id]
    bos = _bos(tok)
    longest = max(len(pc), len(pr)) + len(bos) + max(len(ch), len(rj))
    if longest > max_length:
        keep = max(max_prompt_length - len(bos), 0)
        pc = pc[max(len(pc) - keep, 0):] if keep else []
        pr = pr[max(len(pr) - keep, 0):] if keep else []
    room_c = max_length - len(bos) - len(pc)
    room_r = max_length - len(bos) - len(pr)
    ch, rj = ch[:room_c], rj[:room_r]

    def row(p, a):
        p = bos + p
        return p + a, [IGNORE] * len(p) + a

    return row(pc, ch), row(pr, rj)


def collate(rows: Sequence[Tuple[List[int], List[int]]], pad_id: int, device: Any = None) -> Any:
    """Right-pads (ids, labels) rows to the longest: input_ids, attention
    mask and labels (IGNORE on padding) as tensors."""
    n = max(len(i) for i, _ in rows)
    ids = torch.full((len(rows), n), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), n), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(rows), n), dtype=torch.long)
    for r, (i, l) in enumerate(rows):
        ids[r, : len(i)] = torch.tensor(i, dtype=torch.long)
        labels[r, : len(l)] = torch.tensor(l, dtype=torch.long)
        mask[r, : len(i)] = 1
    if device is not None:
        ids, labels, mask = to_device(ids, device), to_device(labels, device), to_device(mask, device)
    return ids, mask, labels


def to_device(t: "torch.Tensor", device: Any) -> "torch.Tensor":
    """t on device. A copy to a GPU goes through pinned memory without
    blocking: a copy from ordinary memory would wait for all the work
    already queued, so the host could not prepare the next batch while the
    GPU computes."""
    device = torch.device(device)
    if device.type != "cuda":
        return t.to(device)
    return t.pin_memory().to(device, non_blocking=True)


def steps_per_epoch(n: int, batch_size: int) -> int:
    return (n + batch_size - 1) // batch_size


def batch_indices(n: int, batch_size: int, seed: int, step: int) -> List[int]:
    """Example indices of 0-based step: each epoch is a permutation drawn
    from (seed, epoch), cut into batches; the last batch of an epoch may be
    short. The order is a pure function of seed and step, so a checkpoint's
    step is the whole data-order state."""
    spe = steps_per_epoch(n, batch_size)
    epoch, b = divmod(step, spe)
    g = torch.Generator().manual_seed(seed * 1000003 + epoch)
    perm = torch.randperm(n, generator=g).tolist()
    return perm[b * batch_size: (b + 1) * batch_size]
