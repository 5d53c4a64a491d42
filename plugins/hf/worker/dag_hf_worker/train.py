"""The SFT and DPO training loop: batches, micro-batches, the optimizer,
progress, checkpoints, resume and the output folder."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from typing import Any, Callable, Dict, Mapping

import torch

from . import backend, data, folders, losses, steptime
from .channel import invalid, precondition

CHECKPOINT_FORMAT = "dag-hf-checkpoint/1"
STATE = "state.json"
OPTIMIZER = "optimizer.pt"


class Run:
    """One training stage, set up from its request."""

    def __init__(self, req, load=backend.load):
        self.kind = req["kind"]
        if self.kind not in ("sft", "dpo"):
            raise invalid("train: kind %r: the hf backend runs sft and dpo" % self.kind)
        self.p = req["params"]
        self.req = req
        inputs = req.get("inputs", {})
        model_dir = inputs.get("model", "")
        if not model_dir:
            raise invalid("train %s: no model input" % self.kind)
        self.model_dir = model_dir
        records, data_digest = data.read_records(inputs.get("data", ""), self.kind)
        self.handle = load(model_dir, self.p, True)
        h = self.handle
        max_len = min(self.p["max_length"], h.max_length)
        tmpl = self.p["prompt_template"]
        if self.kind == "sft":
            ex = [data.sft_example(h.tokenizer, r, tmpl, max_len) for r in records]
            ex = [e for e in ex if data.has_labels(e[1])]
            self.dropped = len(records) - len(ex)
            if not ex:
                raise invalid("train sft: no response token fits in max_length %d" % max_len)
            if self.p["packing"]:
                ex = data.pack(ex, max_len)
                if not ex:
                    raise invalid("train sft: packing: the data is shorter than one block of %d tokens" % max_len)
        else:
            mp = self.p["max_prompt_length"] or max_len // 2
            ex = [data.dpo_example(h.tokenizer, r, tmpl, max_len, mp) for r in records]
            ex = [e for e in ex if data.has_labels(e[0][1]) and data.has_labels(e[1][1])]
            self.dropped = len(records) - len(ex)
            if not ex:
                raise invalid("train dpo: no answer token fits in max_length %d" % max_len)
        self.examples = ex
        if self.kind == "sft":
            self.label_counts = [data.count_labels(l) for _, l in ex]
        self.timer = steptime.from_env()
        bs = self.p["batch_size"]
        self.spe = data.steps_per_epoch(len(ex), bs)
        self.total = self.p["steps"] or self.p["epochs"] * self.spe
        fp = hashlib.sha256()
        for part in (self.kind, req.get("params_key", ""), data_digest, folders.summary(model_dir)):
            fp.update(part.encode() + b"\n")
        self.fingerprint = "sha256:" + fp.hexdigest()

    def lr(self, step):
        """Learning rate of 0-based step: linear warmup, then constant or
        cosine decay to zero."""
        base, warm = self.p["learning_rate"], self.p["warmup_steps"]
        if step < warm:
            return base * (step + 1) / warm
        if self.p["lr_scheduler"] == "cosine":
            span = max(self.total - warm, 1)
            return base * 0.5 * (1 + math.cos(math.pi * (step - warm) / span))
        return base

    def micro(self, rows):
        m = self.p["micro_batch_size"] or self.p["batch_size"]
        return [rows[i: i + m] for i in range(0, len(rows), m)]

    def _inputs(self, rows):
        """A micro-batch on the device: ids, the attention mask (None when
        no row is padded) and labels, and its token count (counted on the
        host, so that no step waits for the device to count)."""
        h = self.handle
        with self.timer.phase("data"):
            ids, mask, labels = data.collate(rows, h.tokenizer.pad_token_id, h.device)
            lengths = [len(i) for i, _ in rows]
        if min(lengths) == max(lengths):
            mask = None
        return ids, mask, labels, sum(lengths)

    def sft_step(self, idx):
        """One SFT step's gradients; returns ({"loss": tensor}, tokens). The
        loss stays on the device until the loop reads it once per step."""
        h = self.handle
        rows = [self.examples[i] for i in idx]
        total = max(sum(self.label_counts[i] for i in idx), 1)
        loss, tokens = 0.0, 0
        for part in self.micro(rows):
            ids, mask, labels, n = self._inputs(part)
            with self.timer.phase("forward"):
                nll, _ = losses.sft_nll(h.logits(ids, mask), labels)
                nll = nll / total
            with self.timer.phase("backward"):
                nll.backward()
            loss = loss + nll.detach()
            tokens += n
        return {"loss": loss}, tokens

    def dpo_step(self, idx):
        h = self.handle
        pairs = [self.examples[i] for i in idx]
        n = len(pairs)
        sums = 0.0
        tokens = 0
        for part in self.micro(pairs):
            rows = [c for c, _ in part] + [r for _, r in part]
            ids, mask, labels, count = self._inputs(rows)
            with self.timer.phase("forward"):
                logps = losses.sequence_logps(h.logits(ids, mask), labels)
                with torch.no_grad(), h.adapter_disabled():
                    ref = losses.sequence_logps(h.logits(ids, mask), labels)
                k = len(part)
                lv, ch, rj = losses.dpo_loss(logps[:k], logps[k:], ref[:k], ref[k:], self.p["beta"], self.p["label_smoothing"])
            with self.timer.phase("backward"):
                (lv.sum() / n).backward()
            sums = sums + losses.dpo_metric_tensor(lv, ch, rj) * (k / n)
            tokens += count
        return dict(zip(losses.METRICS, sums.unbind())), tokens

    def checkpoint(self, opt, done):
        root = self.req.get("checkpoint_dir", "")
        name = "step-%06d" % done
        tmp = os.path.join(root, "." + name + ".tmp")
        final = os.path.join(root, name)
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        self.handle.save_adapter(tmp)
        torch.save(opt.state_dict(), os.path.join(tmp, OPTIMIZER))
        state = {"format": CHECKPOINT_FORMAT, "kind": self.kind, "step": done,
                 "total_steps": self.total, "fingerprint": self.fingerprint}
        with open(os.path.join(tmp, STATE), "w") as f:
            json.dump(state, f, indent=2, sort_keys=True)
        os.replace(tmp, final)
        return final

    def resume(self, folder, opt):
        """Loads a checkpoint of this same run; another run's is
        failed_precondition."""
        try:
            with open(os.path.join(folder, STATE)) as f:
                st = json.load(f)
        except (OSError, ValueError) as e:
            raise precondition("checkpoint %s: %s" % (folder, e))
        if st.get("format") != CHECKPOINT_FORMAT or st.get("fingerprint") != self.fingerprint:
            raise precondition("checkpoint %s: from another run (different params, data or parent model)" % folder)
        if st["step"] > self.total:
            raise precondition("checkpoint %s: step %d past the run's %d steps" % (folder, st["step"], self.total))
        self.handle.load_adapter(folder)
        opt.load_state_dict(torch.load(os.path.join(folder, OPTIMIZER), map_location="cpu"))
        return st["step"]

    def write_output(self):
        out = self.req["output_dir"]
        h = self.handle
        if self.p["merge"]:
            h.save_merged(out)
        else:
            h.save_adapter(out)
            folders.link_tree(self.model_dir, os.path.join(out, folders.PARENT))
        h.save_tokenizer(out)
        folders.write_marker(out, self.kind, self.p["merge"])


def gpu_memory_gib() -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**30
    return 0.0


def run(req: Mapping[str, Any], chan: Any, load: Callable[..., Any] = backend.load) -> Dict[str, Any]:
    """Runs a train request, reporting on chan; returns the done fields."""
    r = Run(req, load)
    h, p = r.handle, r.p
    torch.manual_seed(p["seed"])  # the new adapter's initialisation
    h.add_adapter(p["lora"])
    h.train_mode(dropout=r.kind == "sft")
    params = h.trainable_parameters()
    opt = torch.optim.AdamW(params, lr=p["learning_rate"], weight_decay=p["weight_decay"], betas=(0.9, 0.999), eps=1e-8)
    start = 0
    if req.get("inputs", {}).get("resume"):
        start = r.resume(req["inputs"]["resume"], opt)
    if r.dropped:
        chan.log("hf %s: %d records dropped: their answers do not fit in max_length" % (r.kind, r.dropped))
    chan.log("hf %s: %d examples, %d trainable of %d parameters, steps %d..%d of %d on %s" % (
        r.kind, len(r.examples), sum(x.numel() for x in params), h.n_params, start + 1, r.total, r.total, h.device))
    step_fn = r.sft_step if r.kind == "sft" else r.dpo_step
    last = {}
    began, tokens = time.time(), 0
    for s in range(start, r.total):
        r.timer.begin_step()
        for g in opt.param_groups:
            g["lr"] = r.lr(s)
        torch.manual_seed(p["seed"] * 1000003 + s)  # LoRA dropout, per step
        idx = data.batch_indices(len(r.examples), p["batch_size"], p["seed"], s)
        last, n = step_fn(idx)
        with r.timer.phase("optimizer"):
            if p["max_grad_norm"] > 0:
                torch.nn.utils.clip_grad_norm_(params, p["max_grad_norm"])
            opt.step()
            opt.zero_grad(set_to_none=True)
        last = {k: float(v) for k, v in last.items()}  # the step's one wait for the device
        r.timer.end_step()
        if not math.isfinite(last["loss"]):
            raise invalid("train step %d: loss is %s (lower the learning rate)" % (s + 1, last["loss"]))
        tokens += n
        done = s + 1
        chan.progress(done, r.total)
        if done % p["log_every"] == 0 or done == r.total:
            tps = tokens / max(time.time() - began, 1e-9)
            vals = dict(last, tokens_per_second=tps, gpu_memory_gib=gpu_memory_gib(), **r.timer.means())
            chan.metrics(done, vals)
            chan.log("step %d/%d loss %.4f, %.0f tokens/s, %.2f GiB" % (done, r.total, last["loss"], tps, vals["gpu_memory_gib"]))
        if p["checkpoint_every"] > 0 and done % p["checkpoint_every"] == 0 and done < r.total and req.get("checkpoint_dir"):
            chan.checkpoint(done, r.checkpoint(opt, done))
    r.write_output()
    return {"step": r.total, "metrics": last}
