"""Stage 1 of the GPU check: correctness on a tiny random Llama in float32
with deterministic kernels (docs/gpu.md). Every check is recorded in
OUT/stage1.json as it ends; a failing check does not stop the others.

  python3 stage1.py --bin BIN --out OUT --work WORK --deadline UNIX_TIME [--toy]

--toy runs the same calls on the worker tests' toy model (no transformers
needed; the checks that compare with transformers and peft are skipped):
a dry run of the stage on any machine with PyTorch."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(ROOT, "plugins", "hf", "worker")
sys.path[:0] = [HERE, WORKER, os.path.join(WORKER, "tests")]

import fixtures  # noqa: E402
import lib  # noqa: E402

# Adapt every projection of the tiny model: seven modules a layer.
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TOY_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj"]
SFT_STEPS, CHECKPOINT_AT, DPO_STEPS = 40, 20, 30


def main():
    a = lib.stage_args()
    # The comparisons in this process use deterministic kernels too; cuBLAS
    # reads this before CUDA starts.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    report = lib.Report(os.path.join(a.out, "stage1.json"), "correctness", toy=a.toy)
    s = Stage(a, lib.Clock(a.deadline), report)
    lib.run_stage(report, s.run)


class Stage:
    def __init__(self, a, clock, report):
        self.a, self.clock, self.report = a, clock, report
        self.work = a.work
        env = dict(os.environ, DAG_HF_DETERMINISTIC="1", CUBLAS_WORKSPACE_CONFIG=":4096:8")
        if a.toy:
            env["DAG_HF_TEST_LOADER"] = "toymodel:load"
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(WORKER, "tests"), env.get("PYTHONPATH")]))
        self.driver = lib.Driver(a.bin, env)
        self.targets = TOY_TARGETS if a.toy else TARGETS
        self.outputs = {}

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def lora(self):
        return {"rank": 8, "alpha": 16, "dropout": 0, "target_modules": self.targets}

    def call(self, sub, name, timeout=120, **flags):
        return self.driver.call(sub, min(timeout, max(self.clock.left(), 5)), self.path(name + ".log"), **flags)

    def run(self):
        r = self.report
        lib.run_check(r, "describe", self.describe)
        if lib.run_check(r, "fixtures", self.fixtures) is None:
            return
        lib.run_check(r, "sft_loss_falls", self.sft)
        lib.run_check(r, "resume_same_adapter", self.resume)
        lib.run_check(r, "dpo_loss_falls", self.dpo)
        for m in ("sft", "dpo"):
            lib.run_check(r, "score_%s_matches_transformers" % m, self.score, m)
        lib.run_check(r, "adapter_loads_with_peft", self.peft_load)
        lib.run_check(r, "cancel_ends_worker", self.cancel)

    def describe(self):
        d = self.call("describe", "describe", timeout=60)
        return bool(d.get("ready")), d

    def fixtures(self):
        """The tiny model (or the toy one), training data and requests."""
        if self.a.toy:
            self.model = fixtures.toy_base(self.path("tiny"))
        else:
            tok = fixtures.tokenizer(self.path("tokenizer"))
            self.model = fixtures.llama(self.path("tiny"), tok, "float32", **fixtures.TINY)
        fixtures.write_records(self.path("sft"), fixtures.sft_records())
        fixtures.write_records(self.path("dpo"), fixtures.dpo_records())
        fixtures.write_requests(self.path("requests.jsonl"), fixtures.score_requests())
        return True, {"model": self.model, "files": sorted(os.listdir(self.model))}

    def params(self, **extra):
        p = {"dtype": "float32", "max_length": 128, "log_every": 1, "batch_size": 8, "learning_rate": 0.005,
             "lora": self.lora()}
        p.update(extra)
        return p

    def sft(self):
        out = self.path("tiny-sft")
        res = self.call("train", "tiny-sft", kind="sft", model=self.model, data=self.path("sft"), out=out,
                        checkpoints=self.path("sft-checkpoints"),
                        params=self.params(steps=SFT_STEPS, checkpoint_every=CHECKPOINT_AT))
        self.outputs["sft"] = out
        self.sft_result = res
        ls = res["losses"]
        first, last = lib.mean(ls[:5]), lib.mean(ls[-5:])
        return last < 0.9 * first, {"loss_first5": first, "loss_last5": last, "steps": res["step"],
                                    "checkpoints": res.get("checkpoints") or []}

    def resume(self):
        cps = (getattr(self, "sft_result", None) or {}).get("checkpoints") or []
        if not cps:
            return False, {"error": "the sft run wrote no checkpoint"}
        out = self.path("tiny-sft-resumed")
        res = self.call("train", "tiny-sft-resumed", kind="sft", model=self.model, data=self.path("sft"), out=out,
                        resume=cps[0], params=self.params(steps=SFT_STEPS, checkpoint_every=CHECKPOINT_AT))
        name = "adapter_model.pt" if self.a.toy else "adapter_model.safetensors"
        a, b = (open(os.path.join(d, name), "rb").read() for d in (self.outputs["sft"], out))
        figures = {"resumed_from": cps[0], "file": name, "bytes": len(a), "identical": a == b,
                   "final_loss": res["metrics"].get("loss"), "uninterrupted_final_loss": self.sft_result["metrics"].get("loss")}
        if a != b:
            figures["largest_difference"] = largest_difference(self.outputs["sft"], out, name)
        return a == b, figures

    def dpo(self):
        out = self.path("tiny-dpo")
        res = self.call("train", "tiny-dpo", kind="dpo", model=self.outputs["sft"], data=self.path("dpo"), out=out,
                        params=self.params(steps=DPO_STEPS, beta=0.5))
        self.outputs["dpo"] = out
        ls = res["losses"]
        start, end = ls[0], lib.mean(ls[-5:])
        return abs(start - 0.6931) < 0.01 and end < 0.6, {"loss_first": start, "loss_last5": end,
                                                          "final_metrics": res["metrics"]}

    def score(self, which):
        folder = self.outputs[which]
        results = self.path("tiny-%s-scores.jsonl" % which)
        res = self.call("score", "tiny-%s-score" % which, model=folder, requests=self.path("requests.jsonl"),
                        out=results, params={"dtype": "float32", "score_batch_size": 16})
        with open(self.path("requests.jsonl")) as f:
            reqs = [json.loads(l) for l in f]
        with open(results) as f:
            got = [json.loads(l) for l in f]
        figures = {"requests": len(got), "padding_fraction": res.get("padding_fraction")}
        if self.a.toy:
            raise lib.Skip("toy model (ran the call: %d results)" % len(got))
        worst, greedy_diff, count_diff = compare_scores(folder, reqs, got)
        figures.update(largest_abs_logprob_difference=worst, greedy_flags_differing=greedy_diff,
                       token_counts_differing=count_diff)
        return worst <= 1e-4 and count_diff == 0 and len(got) == len(reqs), figures

    def peft_load(self):
        if self.a.toy:
            raise lib.Skip("toy model")
        return peft_load(self.model, self.outputs["sft"], len(self.targets) * fixtures.TINY_LAYERS)

    def cancel(self):
        res = self.call("train", "tiny-cancel", kind="sft", model=self.model, data=self.path("sft"),
                        out=self.path("tiny-cancel"), cancel_after=3,
                        params=self.params(steps=100000, batch_size=1, max_length=64))
        return bool(res["canceled"]) and not res["left"] and bool(res["worker_pids"]), res


def largest_difference(a, b, name):
    import torch

    if name.endswith(".pt"):
        x, y = (torch.load(os.path.join(d, name)) for d in (a, b))
    else:
        from safetensors.torch import load_file

        x, y = (load_file(os.path.join(d, name)) for d in (a, b))
    return max(float((x[k].double() - y[k].double()).abs().max()) for k in x)


def chain(folder):
    """(base folder, adapter folders base first) of a model the plugin wrote."""
    out = []
    while os.path.isfile(os.path.join(folder, "adapter_config.json")):
        out.insert(0, folder)
        folder = os.path.join(folder, "parent")
    return folder, out


def deterministic():
    import torch

    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def load_merged(folder):
    """The model of an adapter chain as transformers and peft load it,
    without the worker: each adapter merged in turn."""
    import peft
    import torch
    import transformers

    from dag_hf_worker import compat

    deterministic()
    base, adapters = chain(folder)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        base, **{compat.dtype_keyword(transformers.__version__): torch.float32}).cuda()
    for a in adapters:
        model = peft.PeftModel.from_pretrained(model, a).merge_and_unload()
    model.eval()
    return model, transformers.AutoTokenizer.from_pretrained(base)


def compare_scores(folder, reqs, got):
    """The largest |logprob difference| between the plugin's results and a
    direct computation (float64 log-softmax, one unpadded request at a
    time), the greedy flags and token counts that differ."""
    import torch

    model, tok = load_merged(folder)
    enc = lambda s: tok(s, add_special_tokens=False)["input_ids"]  # noqa: E731
    worst, greedy_diff, count_diff = 0.0, 0, 0
    for q, g in zip(reqs, got):
        ctx, cont = q["context"], q["continuation"]
        if q.get("bos_context"):
            c, x = [tok.bos_token_id], enc(cont)
        else:
            n = len(ctx) - len(ctx.rstrip())
            if n:
                ctx, cont = ctx[:-n], ctx[-n:] + cont
            if ctx:
                c = enc(ctx)
                x = enc(ctx + cont)[len(c):]
            else:
                c, x = [tok.eos_token_id], enc(cont)
        ids = torch.tensor([c + x]).cuda()
        with torch.no_grad():
            lp = model(input_ids=ids).logits[0].double().log_softmax(-1)
        pos = torch.arange(len(c) - 1, len(c) + len(x) - 1).cuda()
        tgt = torch.tensor(x).cuda()
        ll = lp[pos, tgt].sum().item()
        greedy = bool((lp[pos].argmax(-1) == tgt).all())
        worst = max(worst, abs(ll - g["logprob"]))
        greedy_diff += greedy != g["greedy"]
        count_diff += g["tokens"] != len(x)
    return worst, greedy_diff, count_diff


def peft_load(base_folder, adapter_folder, want_modules):
    """The adapter folder as peft loads it: its LoRA modules, and the same
    logits unmerged as merged, different from the base's."""
    import peft
    import torch
    import transformers

    from dag_hf_worker import compat

    deterministic()
    base = transformers.AutoModelForCausalLM.from_pretrained(
        base_folder, **{compat.dtype_keyword(transformers.__version__): torch.float32}).cuda().eval()
    ids = torch.arange(3, 40).unsqueeze(0).cuda()
    with torch.no_grad():
        plain = base(input_ids=ids).logits
    model = peft.PeftModel.from_pretrained(base, adapter_folder).eval()
    modules = sum(1 for n, _ in model.named_modules() if n.endswith(".lora_A.default"))
    with torch.no_grad():
        unmerged = model(input_ids=ids).logits
        merged = model.merge_and_unload()(input_ids=ids).logits
    diff = float((unmerged - merged).abs().max())
    change = float((unmerged - plain).abs().max())
    with open(os.path.join(adapter_folder, "adapter_config.json")) as f:
        cfg = json.load(f)
    figures = {"lora_modules": modules, "want_modules": want_modules, "unmerged_vs_merged": diff,
               "adapter_vs_base": change, "base_model_name_or_path": cfg.get("base_model_name_or_path"),
               "peft_version": cfg.get("peft_version"), "files": sorted(os.listdir(adapter_folder))}
    return modules == want_modules and diff <= 1e-4 and change > 0, figures


if __name__ == "__main__":
    main()
