"""Log-likelihood requests with lm-evaluation-harness v0.4 semantics
(ml-spec 1.1 and 2.2, docs/plugins.md "Score")."""

import json
import os

import torch


def encode_request(tok, req, add_bos):
    """(context ids, continuation ids) of one request.

    - bos_context: the context is exactly BOS and the continuation is the
      text encoded alone (HF encode with special tokens: per-sentence
      perplexity, ml-spec 2.2).
    - empty context: the end-of-text token (v0.4.2).
    - otherwise: trailing whitespace of the context moves to the
      continuation; context + continuation are encoded whole and split
      after the context's tokens; add_bos puts BOS first (v0.4.9.2+).
    """
    ctx, cont = req.get("context", ""), req.get("continuation", "")
    if req.get("bos_context"):
        bos = tok.bos_token_id if tok.bos_token_id is not None else tok.eos_token_id
        return [bos], tok.encode(cont)
    n = len(ctx) - len(ctx.rstrip())
    if n:
        ctx, cont = ctx[:-n], ctx[-n:] + cont
    if not ctx:
        return [tok.eos_token_id], tok.encode(cont)
    whole = tok.encode(ctx + cont)
    c = tok.encode(ctx)
    prefix = [tok.bos_token_id] if add_bos and tok.bos_token_id is not None else []
    return prefix + c, whole[len(c):]


def truncate(ctx, cont, max_length):
    """The model input (ctx + cont)[-(max_length+1):][:-1] and how many of
    the continuation's tokens it scores."""
    seq = (ctx + cont)[-(max_length + 1):]
    return seq[:-1], min(len(cont), len(seq) - 1), seq


def loglikelihoods(logits_fn, tok, reqs, add_bos, max_length, batch_size, device=None, on_batch=None, stats=None):
    """Scores reqs; returns [{"logprob", "tokens", "greedy"}] in request
    order. Rows run longest first, batch_size at a time, right-padded;
    logits_fn(input_ids, attention_mask) -> [B, T, V]. Only the
    continuation positions are upcast to float32 and normalised. stats,
    when given, receives "tokens": the input tokens run (padding excluded)."""
    items = []
    for i, q in enumerate(reqs):
        ctx, cont = encode_request(tok, q, add_bos)
        inp, k, seq = truncate(ctx, cont, max_length)
        items.append((i, inp, k, seq[-k:] if k else []))
    order = sorted(items, key=lambda it: (-len(it[1]), it[0]))
    out = [None] * len(reqs)
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    for b in range(0, len(order), batch_size):
        chunk = order[b: b + batch_size]
        width = max(len(it[1]) for it in chunk)
        ids = torch.full((len(chunk), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        for r, (_, inp, _, _) in enumerate(chunk):
            ids[r, : len(inp)] = torch.tensor(inp, dtype=torch.long)
            mask[r, : len(inp)] = 1
        if stats is not None:
            stats["tokens"] = stats.get("tokens", 0) + int(mask.sum())
        if device is not None:
            ids, mask = ids.to(device), mask.to(device)
        with torch.no_grad():
            logits = logits_fn(ids, mask)
            for r, (i, inp, k, target) in enumerate(chunk):
                if k == 0:
                    out[i] = {"logprob": 0.0, "tokens": 0, "greedy": True}
                    continue
                rows = logits[r, len(inp) - k: len(inp), :].float().log_softmax(-1)
                t = torch.tensor(target, dtype=torch.long, device=rows.device)
                lp = rows.gather(-1, t.unsqueeze(-1)).squeeze(-1)
                greedy = bool((rows.argmax(-1) == t).all())
                out[i] = {"logprob": float(lp.double().sum()), "tokens": k, "greedy": greedy}
        if on_batch is not None:
            on_batch(min(b + batch_size, len(order)), len(order))
    return out


def read_requests(path):
    """Requests from a JSONL file (the Go side has validated them)."""
    reqs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                reqs.append(json.loads(line))
    return reqs


def write_results(path, results):
    """Writes results beside path and renames them into place: no partial
    output file on failure."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
    os.replace(tmp, path)
