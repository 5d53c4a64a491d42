"""Stage 3 of the GPU check: end to end through dag (docs/gpu.md). It lays
out the study in study.yaml beside this file with a tiny random Llama,
runs `dag submit --wait` on the embedded Temporal server (dag starts it;
its home is a scratch folder), then submits the same study again and
expects every node cached. OUT/stage3.json is rewritten after each step.

  python3 stage3.py --bin BIN --out OUT --work WORK --deadline UNIX_TIME [--model DIR] [--toy]

--model reuses a tiny model folder (stage 1's); --toy runs the study on the
worker tests' toy model through the same plugin, on the CPU."""

import json
import os
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WORKER = os.path.join(ROOT, "plugins", "hf", "worker")
QUICKSTART = os.path.join(ROOT, "examples", "quickstart", "data")
sys.path[:0] = [HERE, WORKER, os.path.join(WORKER, "tests")]

import fixtures  # noqa: E402
import lib  # noqa: E402

DATA = ("lima.jsonl", "hh.jsonl", "arc.jsonl", "piqa.jsonl", "safenlp.jsonl")


def main():
    a = lib.stage_args(("--model", {"default": ""}))
    report = lib.Report(os.path.join(a.out, "stage3.json"), "end-to-end", toy=a.toy)
    s = Stage(a, lib.Clock(a.deadline), report)
    lib.run_stage(report, s.run, s.stop_server)


class Stage:
    def __init__(self, a, clock, report):
        self.a, self.clock, self.report = a, clock, report
        self.home = os.path.join(a.work, "home")
        self.study = os.path.join(a.work, "study")
        self.dag = os.path.join(a.bin, "dag")
        env = dict(os.environ, DAG_HF_CACHE=os.path.join(a.work, "hf-cache"))
        if a.toy:
            env["DAG_HF_TEST_LOADER"] = "toymodel:load"
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(WORKER, "tests"), env.get("PYTHONPATH")]))
        self.env = env

    def run(self):
        lib.run_check(self.report, "layout", self.layout)
        lib.run_check(self.report, "plugin_ready", self.plugins)
        first = lib.run_check(self.report, "first_submit_executes", self.submit, "first")
        if first is None:
            self.report.record("second_submit_all_cached", "skipped", reason="the first submit did not complete")
            return
        lib.run_check(self.report, "second_submit_all_cached", self.submit, "second")

    def layout(self):
        shutil.rmtree(self.study, ignore_errors=True)
        os.makedirs(os.path.join(self.study, "data"))
        shutil.copy(os.path.join(HERE, "study.yaml"), self.study)
        for name in DATA:
            shutil.copy(os.path.join(QUICKSTART, name), os.path.join(self.study, "data", name))
        model = os.path.join(self.study, "model")
        if self.a.model:
            shutil.copytree(self.a.model, model)
        elif self.a.toy:
            fixtures.toy_base(model)
        else:
            tok = fixtures.tokenizer(os.path.join(self.a.work, "tokenizer"))
            fixtures.llama(model, tok, "float32", **fixtures.TINY)
        return True, {"study": self.study, "model_files": sorted(os.listdir(model))}

    def dag_cmd(self, *args):
        return [self.dag, "--home", self.home, "--json"] + list(args)

    def plugins(self):
        out = lib.run(self.dag_cmd("plugins"), min(60, max(self.clock.left(), 5)), env=self.env)
        doc = json.loads(out)
        entries = doc if isinstance(doc, list) else doc.get("plugins", doc)
        hf = [p for p in entries if isinstance(p, dict) and p.get("name") == "hf"]
        return bool(hf) and bool(hf[0].get("ready")), {"hf": hf[0] if hf else None}

    def submit(self, which):
        timeout = max(min(self.clock.left() - (45 if which == "first" else 5), 300), 10)
        rc, out = lib.run_status(self.dag_cmd("submit", "--wait", os.path.join(self.study, "study.yaml")),
                                 timeout, env=self.env,
                                 log_files=[os.path.join(self.home, "logs", "server.log")])
        doc = json.loads(out) if out.strip() else {}
        nodes = doc.get("nodes", [])
        outcomes = {}
        for n in nodes:
            outcomes[n["outcome"]] = outcomes.get(n["outcome"], 0) + 1
        kinds = sorted({n["kind"] for n in nodes})
        failed = [{"id": n["id"], "error": n.get("error", "")[-1500:]} for n in nodes if n["outcome"] == "failed"]
        fig = {"exit_status": rc, "run_status": doc.get("status"), "nodes": len(nodes), "outcomes": outcomes,
               "kinds": kinds, "failed": failed}
        if which == "first":
            ok = rc == 0 and doc.get("status") == "completed" and not failed and \
                {"sft", "dpo", "eval", "safety"} <= set(kinds) and outcomes.get("executed", 0) > 0
            fig["executed"] = sorted(n["id"] for n in nodes if n["outcome"] == "executed")
        else:
            ok = rc == 0 and doc.get("status") == "completed" and nodes and outcomes.get("cached", 0) == len(nodes)
            fig["not_cached"] = sorted(n["id"] for n in nodes if n["outcome"] != "cached")
        return bool(ok), fig

    def stop_server(self):
        """Stops the dag server the first submit started in the
        background."""
        try:
            with open(os.path.join(self.home, "server.json")) as f:
                pid = int(json.load(f).get("pid") or 0)
        except (OSError, ValueError):
            return
        if pid <= 0:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            return
        for _ in range(100):
            time.sleep(0.1)
            try:
                os.kill(pid, 0)
            except OSError:
                lib.say("dag server %d stopped" % pid)
                return
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


if __name__ == "__main__":
    main()
