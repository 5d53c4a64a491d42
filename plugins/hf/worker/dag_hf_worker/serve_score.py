"""The score op: load the model once, score a requests file, write the
results file."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Mapping

from . import backend, score


def run(req: Mapping[str, Any], chan: Any, load: Callable[..., Any] = backend.load) -> Dict[str, Any]:
    p = req["params"]
    h = load(req["checkpoint"], p, False)
    h.eval_mode()
    reqs = score.read_requests(req["requests_path"])
    max_len = p["score_max_length"] or h.max_length
    began = time.time()
    last = [began]

    def on_batch(done, total):
        if time.time() - last[0] >= 10:
            last[0] = time.time()
            chan.log("score: %d/%d requests" % (done, total))

    stats = {}
    res = score.loglikelihoods(h.logits, h.tokenizer, reqs, p["add_bos"], max_len,
                               p["score_batch_size"], h.device, on_batch, stats)
    score.write_results(req["output_path"], res)
    el = max(time.time() - began, 1e-9)
    toks = stats.get("tokens", 0)
    positions = stats.get("positions", 0)
    padding = 1 - toks / positions if positions else 0.0
    model_s = max(stats.get("model_seconds", 0.0), 1e-9)
    chan.log("score: %d requests, %d tokens in %.1fs (%.0f tokens/s)" % (len(res), toks, el, toks / el))
    chan.log("score: padding %.1f%% of %d positions; encoding %.2fs, batches %.2fs (%.0f tokens/s)" % (
        100.0 * padding, positions, stats.get("encode_seconds", 0.0), model_s, toks / model_s))
    return {"count": len(res), "metrics": {"seconds": el, "tokens": toks, "tokens_per_second": toks / el}}
