import io
import json
import os
import tempfile
import unittest

import torch

from dag_hf_worker import backend, serve_score, train
from dag_hf_worker.channel import Channel, WorkerError, fields

import toymodel

PARAMS = {
    "steps": 0, "epochs": 1, "batch_size": 4, "micro_batch_size": 0, "learning_rate": 0.01,
    "lr_scheduler": "constant", "warmup_steps": 0, "weight_decay": 0.0, "max_grad_norm": 1.0, "seed": 1,
    "max_length": 64, "max_prompt_length": 0, "packing": False,
    "prompt_template": "Question: {prompt}\n\nAnswer: ",
    "lora": {"rank": 4, "alpha": 8.0, "dropout": 0.0, "target_modules": ["q_proj", "v_proj", "up_proj"]},
    "beta": 0.1, "label_smoothing": 0.0, "dtype": "float32", "load_in_4bit": False,
    "gradient_checkpointing": False, "merge": False, "add_bos": False, "score_max_length": 0,
    "log_every": 1, "checkpoint_every": 0, "score_batch_size": 8,
}

SFT = [{"prompt": "what is %d+%d?" % (i, i), "response": "%d." % (2 * i)} for i in range(8)]
DPO = [{"prompt": "colour %d?" % i, "chosen": " blue", "rejected": " red!"} for i in range(8)]


class Recorder(Channel):
    """The worker's own channel, writing into memory."""

    def __init__(self):
        super().__init__(stream=io.StringIO())

    @property
    def events(self):
        return [json.loads(line) for line in self._out.getvalue().splitlines()]

    def losses(self):
        return [e["values"]["loss"] for e in self.events if e["event"] == "metrics"]


def folder_with(name, records):
    d = tempfile.mkdtemp()
    with open(os.path.join(d, name), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return d


class TrainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = toymodel.make_base(tempfile.mkdtemp(), seed=5)
        os.environ["DAG_HF_TEST_LOADER"] = "toymodel:load"

    def request(self, kind, records, **params):
        p = json.loads(json.dumps(PARAMS))
        p.update(params)
        return {"kind": kind, "params": p, "params_key": json.dumps(p, sort_keys=True),
                "inputs": {"model": self.base, "data": folder_with("data.jsonl", records)},
                "output_dir": tempfile.mkdtemp(), "checkpoint_dir": tempfile.mkdtemp()}

    def test_missing_parameter_is_invalid_argument(self):
        req = self.request("sft", SFT, steps=2)
        del req["params"]["batch_size"]
        del req["params"]["lora"]["rank"]
        with self.assertRaises(WorkerError) as cm:
            train.run(fields(req), Recorder(), backend.load)
        self.assertEqual(cm.exception.cls, "invalid_argument")
        self.assertIn("request.params", str(cm.exception))

    def test_sft_loss_falls(self):
        rec = Recorder()
        req = self.request("sft", SFT, steps=30)
        done = train.run(req, rec, backend.load)
        ls = rec.losses()
        self.assertEqual(done["step"], 30)
        self.assertLess(sum(ls[-5:]) / 5, 0.7 * sum(ls[:5]) / 5)
        out = req["output_dir"]
        for f in ("adapter_config.json", "adapter_model.pt", "tokenizer.json", "dag-hf.json", "parent/config.json"):
            self.assertTrue(os.path.exists(os.path.join(out, f)), f)
        progress = [e for e in rec.events if e["event"] == "progress"]
        self.assertEqual([e["step"] for e in progress], list(range(1, 31)))
        m = [e for e in rec.events if e["event"] == "metrics"][-1]["values"]
        self.assertIn("tokens_per_second", m)

    def test_profile_reports_step_times(self):
        rec = Recorder()
        os.environ["DAG_HF_PROFILE"] = "1"
        try:
            train.run(self.request("sft", SFT, steps=3, micro_batch_size=2), rec, backend.load)
        finally:
            del os.environ["DAG_HF_PROFILE"]
        m = [e for e in rec.events if e["event"] == "metrics"][-1]["values"]
        for k in ("time_data_s", "time_forward_s", "time_backward_s", "time_optimizer_s", "time_step_s"):
            self.assertGreaterEqual(m[k], 0.0, k)
        self.assertGreater(m["time_step_s"], m["time_forward_s"])
        plain = Recorder()
        train.run(self.request("sft", SFT, steps=1), plain, backend.load)
        self.assertNotIn("time_step_s", [e for e in plain.events if e["event"] == "metrics"][-1]["values"])

    def test_micro_batches_give_the_same_step(self):
        a, b = Recorder(), Recorder()
        train.run(self.request("sft", SFT, steps=3), a, backend.load)
        train.run(self.request("sft", SFT, steps=3, micro_batch_size=1), b, backend.load)
        for x, y in zip(a.losses(), b.losses()):
            self.assertAlmostEqual(x, y, places=4)

    def test_packing(self):
        rec = Recorder()
        train.run(self.request("sft", SFT, steps=2, packing=True, max_length=40), rec, backend.load)
        self.assertEqual(len(rec.losses()), 2)
        self.assertTrue(all(l > 0 for l in rec.losses()))

    def test_answers_that_do_not_fit(self):
        with self.assertRaises(WorkerError) as e:
            train.run(self.request("sft", SFT, steps=2, max_length=16), Recorder(), backend.load)
        self.assertEqual(e.exception.cls, "invalid_argument")
        long_prompt = SFT + [{"prompt": "x" * 100, "response": "y"}]
        rec = Recorder()
        train.run(self.request("sft", long_prompt, steps=1, max_length=48), rec, backend.load)
        self.assertTrue(any("1 records dropped" in e.get("line", "") for e in rec.events))

    def test_dpo_learns_the_preference(self):
        rec = Recorder()
        req = self.request("dpo", DPO, steps=25, learning_rate=0.02, beta=0.5)
        train.run(req, rec, backend.load)
        ms = [e["values"] for e in rec.events if e["event"] == "metrics"]
        self.assertAlmostEqual(ms[0]["loss"], 0.6931, places=3)  # policy == reference at step 1
        self.assertLess(ms[-1]["loss"], 0.6)
        self.assertEqual(ms[-1]["reward_accuracy"], 1.0)
        self.assertGreater(ms[-1]["reward_margin"], 0)

    def test_resume_gives_the_same_output(self):
        full = self.request("sft", SFT, steps=6, checkpoint_every=2)
        rec = Recorder()
        train.run(full, rec, backend.load)
        cps = [e for e in rec.events if e["event"] == "checkpoint"]
        self.assertEqual([c["step"] for c in cps], [2, 4])
        resumed = dict(full, output_dir=tempfile.mkdtemp(), checkpoint_dir=tempfile.mkdtemp())
        resumed["inputs"] = dict(full["inputs"], resume=cps[0]["dir"])
        rec2 = Recorder()
        train.run(resumed, rec2, backend.load)
        self.assertEqual([e["step"] for e in rec2.events if e["event"] == "progress"], [3, 4, 5, 6])
        a = torch.load(os.path.join(full["output_dir"], "adapter_model.pt"))
        b = torch.load(os.path.join(resumed["output_dir"], "adapter_model.pt"))
        for k in a:
            self.assertTrue(torch.allclose(a[k], b[k], atol=1e-6), k)

        other = dict(resumed, params_key="different")
        with self.assertRaises(WorkerError) as e:
            train.run(other, Recorder(), backend.load)
        self.assertEqual(e.exception.cls, "failed_precondition")

    def test_adapter_chains_load_and_score(self):
        req = self.request("sft", SFT, steps=5)
        train.run(req, Recorder(), backend.load)
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "req.jsonl"), "w") as f:
            f.write(json.dumps({"context": "Question: what is 1+1?\n\nAnswer:", "continuation": " 2."}) + "\n")
        sreq = {"checkpoint": req["output_dir"], "params": PARAMS, "requests_path": os.path.join(d, "req.jsonl"),
                "output_path": os.path.join(d, "out.jsonl")}
        done = serve_score.run(sreq, Recorder())
        self.assertEqual(done["count"], 1)
        with open(sreq["output_path"]) as f:
            chained = json.loads(f.readline())
        # A second SFT stage on top of the first: its parent is an adapter.
        req2 = self.request("sft", SFT, steps=1)
        req2["inputs"]["model"] = req["output_dir"]
        train.run(req2, Recorder(), backend.load)
        self.assertTrue(os.path.isfile(os.path.join(req2["output_dir"], "parent", "parent", "config.json")))
        before = chained["logprob"]
        sreq["checkpoint"] = req2["output_dir"]
        serve_score.run(sreq, Recorder())
        with open(sreq["output_path"]) as f:
            after = json.loads(f.readline())["logprob"]
        self.assertNotAlmostEqual(before, after, places=6)

    def test_merge(self):
        req = self.request("sft", SFT, steps=2, merge=True)
        train.run(req, Recorder(), backend.load)
        self.assertTrue(os.path.isfile(os.path.join(req["output_dir"], "model.pt")))
        self.assertFalse(os.path.exists(os.path.join(req["output_dir"], "parent")))

    def test_bad_kind(self):
        with self.assertRaises(WorkerError) as e:
            train.run(self.request("pretrain", SFT), Recorder(), backend.load)
        self.assertEqual(e.exception.cls, "invalid_argument")


if __name__ == "__main__":
    unittest.main()
