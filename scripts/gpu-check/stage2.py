"""Stage 2 of the GPU check: throughput (docs/gpu.md). It measures the
card's bf16 matmul rate, then LoRA SFT (q, k, v, o; rank 8; 2048-token
packed sequences) through the plugin on random-weight Llama shapes of 1.1B
(TinyLlama) and 6.7B (Llama-2-7b) parameters, a short sweep of the
micro-batch size and gradient checkpointing, and Score at batch fill. MFU
is the model FLOP rate (flops.py) over the measured matmul rate, and over
the datasheet peak. Runs are ordered by what matters most and skipped when
the deadline is near; OUT/stage2.json is rewritten after each.

  python3 stage2.py --bin BIN --out OUT --work WORK --deadline UNIX_TIME [--toy]

--toy: the same runs on the worker tests' toy model on the CPU, small: a
dry run of the stage's plumbing (its figures mean nothing)."""

import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(ROOT, "plugins", "hf", "worker")
sys.path[:0] = [HERE, WORKER, os.path.join(WORKER, "tests")]

import fixtures  # noqa: E402
import flops  # noqa: E402
import lib  # noqa: E402

# Dense bf16 peaks from the datasheets, TFLOP/s (GPU_PEAK_TFLOPS overrides).
PEAKS = {"H200": 989.4, "H100": 989.4, "H800": 989.4, "GH200": 989.4, "A100": 312.0, "L40S": 362.0,
         "A10": 125.0, "L4": 121.0}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]
RANK = 8
SEQ = 2048
STEPS, WARMUP = 8, 2
BATCH = {"1b": 16, "7b": 8}
SCORE_BATCH = 64

# What to run, most important first: (kind, size, micro-batch, gradient
# checkpointing, estimated seconds).
PLAN = [
    ("sft", "1b", 8, False, 35),
    ("score", "1b", None, None, 30),
    ("sft", "7b", 4, False, 50),
    ("score", "7b", None, None, 40),
    ("sft", "1b", 16, False, 35),
    ("sft", "1b", 4, False, 35),
    ("sft", "7b", 8, True, 55),
    ("sft", "1b", 16, True, 40),
]


def main():
    a = lib.stage_args()
    report = lib.Report(os.path.join(a.out, "stage2.json"), "throughput", toy=a.toy)
    s = Stage(a, lib.Clock(a.deadline), report)
    lib.run_stage(report, s.run, s.summarise)


class Stage:
    def __init__(self, a, clock, report):
        self.a, self.clock, self.report = a, clock, report
        env = dict(os.environ, DAG_HF_PROFILE=str(WARMUP))
        if a.toy:
            env["DAG_HF_TEST_LOADER"] = "toymodel:load"
            extra = os.path.join(WORKER, "tests")
        else:
            env["DAG_HF_TEST_LOADER"] = "randomweights:load"
            extra = HERE
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [extra, env.get("PYTHONPATH")]))
        self.driver = lib.Driver(a.bin, env)
        self.rate = None  # measured bf16 matmul TFLOP/s
        self.peak = None
        self.best = {}
        self.lengths = []

    def path(self, *parts):
        return os.path.join(self.a.work, *parts)

    def run(self):
        lib.run_check(self.report, "matmul_bf16", self.matmul)
        if lib.run_check(self.report, "fixtures", self.fixtures) is None:
            return
        for kind, size, micro, gc, est in PLAN:
            name = "%s_%s" % (kind, size) if kind == "score" else "sft_%s_mb%d%s" % (size, micro, "_gc" if gc else "")
            if self.a.toy:
                est = 15
            if not self.clock.allows(est):
                self.report.record(name, "skipped", reason="time: %.0fs left, the run needs about %ds" % (self.clock.left(), est))
                continue
            if kind == "sft":
                lib.run_check(self.report, name, self.sft, size, micro, gc, est)
            else:
                lib.run_check(self.report, name, self.score, size, est)
            self.summarise()

    # --- the matmul rate

    def matmul(self):
        import torch

        if self.a.toy or not torch.cuda.is_available():
            n, dev, dtype = 512, "cpu", torch.float32
        else:
            n, dev, dtype = 8192, "cuda", torch.bfloat16
        name = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
        peak = float(os.environ.get("GPU_PEAK_TFLOPS") or next((v for k, v in PEAKS.items() if k in name), 0))
        self.peak = peak or None
        self.report.set("gpu", name)
        self.report.set("peak_bf16_tflops_datasheet", self.peak)
        a = torch.randn(n, n, device=dev, dtype=dtype)
        b = torch.randn(n, n, device=dev, dtype=dtype)
        reps = 5
        for _ in range(3):
            a @ b
        samples = []
        for _ in range(10):
            samples.append(reps * 2 * n ** 3 / timed(lambda: [a @ b for _ in range(reps)], dev) / 1e12)
        self.rate = statistics.median(samples)
        self.report.set("matmul_tflops", self.rate)
        a = b = None
        if dev == "cuda":
            torch.cuda.empty_cache()
        return True, {"n": n, "dtype": str(dtype), "tflops_median": self.rate, "samples": samples,
                      "fraction_of_datasheet": flops.utilisation(self.rate * 1e12, self.peak)}

    # --- fixtures

    def fixtures(self):
        """Model folders (config and tokenizer only), SFT records, requests
        and their token lengths (for the Score FLOPs)."""
        if self.a.toy:
            fixtures.write_records(self.path("perf"), fixtures.perf_records(n=40, words=30, prompt_words=2))
        else:
            fixtures.write_records(self.path("perf"), fixtures.perf_records(n=200, words=1800))
        reqs = fixtures.perf_requests()
        fixtures.write_requests(self.path("perf-requests.jsonl"), reqs)
        if self.a.toy:
            self.models = {s: fixtures.toy_base(self.path("toy-" + s)) for s in ("1b", "7b")}
            self.lengths = [len((q["context"] + q["continuation"]).encode()) - 1 for q in reqs]
        else:
            tok = fixtures.tokenizer(self.path("tokenizer"))
            self.models = {s: fixtures.llama(self.path("llama-" + s), tok, "bfloat16", weights=False, **fixtures.PERF[s])
                           for s in ("1b", "7b")}
            enc = tok([q["context"] + q["continuation"] for q in reqs], add_special_tokens=False)["input_ids"]
            self.lengths = [len(e) - 1 for e in enc]
        return True, {"requests": len(reqs), "request_tokens": sum(self.lengths),
                      "mean_request_tokens": sum(self.lengths) / len(self.lengths)}

    # --- LoRA SFT

    def sft(self, size, micro, gc, est):
        toy = self.a.toy
        batch, seq = (4, 64) if toy else (BATCH[size], SEQ)
        params = {"steps": STEPS, "batch_size": batch, "micro_batch_size": micro if not toy else 2,
                  "max_length": seq, "packing": True, "log_every": 1, "learning_rate": 1e-4, "checkpoint_every": 0,
                  "gradient_checkpointing": gc, "dtype": "bfloat16",
                  "lora": {"rank": RANK, "alpha": 16, "dropout": 0.05, "target_modules": TARGETS}}
        name = "sft-%s-mb%d%s" % (size, micro, "-gc" if gc else "")
        try:
            res = self.driver.call("train", min(3 * est, max(self.clock.left(), 5)), self.path(name + ".log"),
                                   kind="sft", model=self.models[size], data=self.path("perf"), out=self.path(name),
                                   warmup=str(WARMUP), params=params)
        except lib.ChildError as e:
            if "out of memory" in str(e).lower():  # a sweep result, not a failure
                raise lib.Skip("out of memory at micro-batch %d%s" % (micro, " with checkpointing" if gc else ""))
            raise
        sps = res["steady_steps_per_second"]
        tps = sps * batch * seq
        shape = flops.SHAPES[size]
        per_token = flops.lora_train_per_token(shape, seq, RANK, TARGETS)
        achieved = tps * per_token
        m = res.get("last_metrics") or {}
        times = {k[len("time_"):-len("_s")]: v for k, v in m.items() if k.startswith("time_")}
        fig = {"size": size, "micro_batch_size": micro, "gradient_checkpointing": gc, "batch_size": batch,
               "seq_len": seq, "steps_per_second": sps, "tokens_per_second": tps,
               "flops_per_token": per_token, "achieved_tflops": achieved / 1e12,
               "mfu": flops.utilisation(achieved, self.rate),
               "mfu_datasheet": flops.utilisation(achieved, self.peak),
               "mfu_full_finetune_count": flops.utilisation(tps * flops.full_train_per_token(shape, seq), self.rate),
               "gpu_memory_gib": res.get("gpu_memory_gib"), "loss_first": res["losses"][0] if res["losses"] else None,
               "loss_last": res["losses"][-1] if res["losses"] else None, "step_seconds": times,
               "worker_tokens_per_second": res.get("worker_tokens_per_second")}
        if self.rate and sps:
            fig["matmul_bound_step_seconds"] = batch * seq * per_token / (self.rate * 1e12)
        best = self.best.get(("sft", size))
        if sps and (best is None or tps > best["tokens_per_second"]):
            self.best[("sft", size)] = fig
        ok = sps > 0 and all(x == x and x < 1e4 for x in res["losses"])  # finite losses
        return ok, fig

    # --- Score

    def score(self, size, est):
        params = {"score_batch_size": SCORE_BATCH, "dtype": "bfloat16"}
        out = self.path("score-%s.jsonl" % size)
        res = self.driver.call("score", min(3 * est, max(self.clock.left(), 5)), self.path("score-%s.log" % size),
                               model=self.models[size], requests=self.path("perf-requests.jsonl"), out=out, params=params)
        shape = flops.SHAPES[size]
        total = flops.forward_flops(shape, self.lengths)
        secs = res.get("batch_seconds") or res.get("worker_seconds")
        fig = dict(res, size=size, score_batch_size=SCORE_BATCH, tokens_counted_here=sum(self.lengths),
                   forward_tflops_total=total / 1e12)
        if secs:
            fig["achieved_tflops"] = total / secs / 1e12
            fig["utilisation"] = flops.utilisation(total / secs, self.rate)
            fig["utilisation_datasheet"] = flops.utilisation(total / secs, self.peak)
        self.best[("score", size)] = fig
        return res.get("count") == len(self.lengths), fig

    # --- summary

    def summarise(self):
        best = {}
        targets = {}
        for (kind, size), fig in sorted(self.best.items()):
            best["%s_%s" % (kind, size)] = fig
            if kind == "sft" and fig.get("mfu") is not None:
                targets["sft_%s_mfu_at_least_0.40" % size] = fig["mfu"] >= 0.40
            if kind == "score" and fig.get("utilisation") is not None:
                targets["score_%s_utilisation_at_least_0.50" % size] = fig["utilisation"] >= 0.50
                targets["score_%s_padding_below_0.10" % size] = (fig.get("padding_fraction") or 0) < 0.10
        self.report.set("best", best)
        self.report.set("targets", {} if self.a.toy else targets)  # the toy's figures mean nothing


def timed(fn, dev):
    """Seconds fn takes on the device (CUDA events), or on the host."""
    import time

    import torch

    if dev == "cuda":
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        return a.elapsed_time(b) / 1000.0
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
