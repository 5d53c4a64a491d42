"""Log-likelihood requests with lm-evaluation-harness v0.4 semantics
(docs/metrics.md, "Scoring a request" and "The safety score"; docs/plugins.md "Score")."""

from __future__ import annotations

import json
import os
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from . import data


def _split(req):
    """(context, continuation, kind) of a request after moving the
    context's trailing whitespace to the continuation; kind is "bos",
    "empty" or "text"."""
    ctx, cont = req.get("context", ""), req.get("continuation", "")
    if req.get("bos_context"):
        return "", cont, "bos"
    n = len(ctx) - len(ctx.rstrip())
    if n:
        ctx, cont = ctx[:-n], ctx[-n:] + cont
    return ctx, cont, ("text" if ctx else "empty")


def _ids(tok, kind, c, whole, cont_ids, add_bos):
    """(context ids, continuation ids) from the encodings _split asks for:
    c = encode(context), whole = encode(context + continuation), cont_ids =
    encode(continuation) (only those the kind needs)."""
    if kind == "bos":
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        return [bos], cont_ids
    if kind == "empty":
        return [tok.eos_token_id], cont_ids
    prefix = [tok.bos_token_id] if add_bos and tok.bos_token_id is not None else []
    return prefix + c, whole[len(c):]


def encode_request(tok: Any, req: Mapping[str, Any], add_bos: bool) -> Tuple[List[int], List[int]]:
    """(context ids, continuation ids) of one request.

    - bos_context: the context is exactly BOS and the continuation is the
      text encoded alone (HF encode with special tokens: per-sentence
      perplexity, docs/metrics.md).
    - empty context: the end-of-text token (v0.4.2).
    - otherwise: trailing whitespace of the context moves to the
      continuation; context + continuation are encoded whole and split
      after the context's tokens; add_bos puts BOS first (v0.4.9.2+).
    """
    return encode_requests(tok, [req], add_bos)[0]


def encode_requests(tok: Any, reqs: Sequence[Mapping[str, Any]], add_bos: bool) -> List[Tuple[List[int], List[int]]]:
    """encode_request of every request, with the texts encoded in one call
    of tok.encode_many when the tokenizer has it (the fast tokenizers
    encode a list in parallel), else one encode per text."""
    parts = [_split(q) for q in reqs]
    texts = []
    for ctx, cont, kind in parts:
        texts.extend([ctx, ctx + cont] if kind == "text" else [cont])
    many = getattr(tok, "encode_many", None)
    enc = many(texts) if many is not None else [tok.encode(t) for t in texts]
    out, j = [], 0
    for ctx, cont, kind in parts:
        if kind == "text":
            out.append(_ids(tok, kind, enc[j], enc[j + 1], None, add_bos))
            j += 2
        else:
            out.append(_ids(tok, kind, None, None, enc[j], add_bos))
            j += 1
    return out


def truncate(ctx: List[int], cont: List[int], max_length: int) -> Tuple[List[int], List[int]]:
    """The model input (ctx + cont)[-(max_length+1):][:-1] and how many of
    the continuation's tokens it scores."""
    seq = (ctx + cont)[-(max_length + 1):]
    return seq[:-1], min(len(cont), len(seq) - 1), seq


# Rows of [N, V] continuation logits normalised at once: bounds the float32
# copy for long continuations.
_ROWS = 4096


def _continuation_logprobs(logits, chunk):
    """Log-probabilities of every continuation token of a batch and whether
    each is the argmax, as device tensors [N] in request-then-position
    order: only the continuation positions are upcast to float32 and
    normalised."""
    rows, pos, tgt = [], [], []
    for r, (_, inp, k, target) in enumerate(chunk):
        rows.extend([r] * k)
        pos.extend(range(len(inp) - k, len(inp)))
        tgt.extend(target)
    dev = logits.device
    rows, pos, tgt = (data.to_device(torch.tensor(x, dtype=torch.long), dev) for x in (rows, pos, tgt))
    lps, hits = [], []
    for a in range(0, len(tgt), _ROWS):
        sel = logits[rows[a: a + _ROWS], pos[a: a + _ROWS]].float().log_softmax(-1)
        t = tgt[a: a + _ROWS]
        lps.append(sel.gather(-1, t.unsqueeze(-1)).squeeze(-1))
        hits.append(sel.argmax(-1) == t)
    if not lps:
        return None
    return torch.cat(lps), torch.cat(hits)


def _results(chunk, picked, out):
    """Fills out[i] for each request of a batch from its continuation
    tokens (one copy from the device per batch); sums are float64."""
    if picked is not None:
        lp, hit = picked[0].double().cpu(), picked[1].cpu()
    a = 0
    for i, _, k, _ in chunk:
        if k == 0:
            out[i] = {"logprob": 0.0, "tokens": 0, "greedy": True}
            continue
        out[i] = {"logprob": float(lp[a: a + k].sum()), "tokens": k, "greedy": bool(hit[a: a + k].all())}
        a += k


def loglikelihoods(logits_fn: Callable[..., torch.Tensor], tok: Any, reqs: Sequence[Mapping[str, Any]], add_bos: bool, max_length: int,
                   batch_size: int, device: Any = None, on_batch: Optional[Callable[[int, int], None]] = None,
                   stats: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
    """Scores reqs; returns [{"logprob", "tokens", "greedy"}] in request
    order. Rows run longest first, batch_size at a time, right-padded;
    logits_fn(input_ids, attention_mask) -> [B, T, V], with mask None
    when no row of the batch is padded. Each batch's results are read back
    after the next batch is queued, so the device does not wait for the
    host between batches. stats, when given, receives "tokens" (the input
    tokens run, padding excluded), "positions" (with padding),
    "encode_seconds" and "model_seconds" (the batches)."""
    began = time.perf_counter()
    items = []
    for i, (ctx, cont) in enumerate(encode_requests(tok, reqs, add_bos)):
        inp, k, seq = truncate(ctx, cont, max_length)
        items.append((i, inp, k, seq[-k:] if k else []))
    order = sorted(items, key=lambda it: (-len(it[1]), it[0]))
    encoded = time.perf_counter()
    out = [None] * len(reqs)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    tokens = positions = 0
    pending = None
    for b in range(0, len(order), batch_size):
        chunk = order[b: b + batch_size]
        width = max(len(it[1]) for it in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        n = 0
        for r, (_, inp, _, _) in enumerate(chunk):
            ids[r, : len(inp)] = torch.tensor(inp, dtype=torch.long)
            mask[r, : len(inp)] = 1
            n += len(inp)
        tokens += n
        positions += len(chunk) * width
        if device is not None:
            ids, mask = data.to_device(ids, device), data.to_device(mask, device)
        with torch.no_grad():
            logits = logits_fn(ids, None if n == len(chunk) * width else mask)
            picked = _continuation_logprobs(logits, chunk)
        del logits
        if pending is not None:
            _results(*pending, out)
        pending = (chunk, picked)
        if on_batch is not None:
            on_batch(min(b + batch_size, len(order)), len(order))
    if pending is not None:
        _results(*pending, out)
    if stats is not None:
        stats["tokens"] = stats.get("tokens", 0) + tokens
        stats["positions"] = stats.get("positions", 0) + positions
        stats["encode_seconds"] = stats.get("encode_seconds", 0.0) + (encoded - began)
        stats["model_seconds"] = stats.get("model_seconds", 0.0) + (time.perf_counter() - encoded)
    return out


def read_requests(path: str) -> List[Dict[str, Any]]:
    """Requests from a JSONL file (the Go side has validated them)."""
    reqs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                reqs.append(json.loads(line))
    return reqs


def write_results(path: str, results: Sequence[Mapping[str, Any]]) -> None:
    """Writes results beside path and renames them into place: no partial
    output file on failure."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    os.replace(tmp, path)
