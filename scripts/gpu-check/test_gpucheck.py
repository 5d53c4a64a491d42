"""Unit tests of the GPU check's own logic (run here, without a GPU):
python3 -m unittest discover -s scripts/gpu-check"""

import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import flops  # noqa: E402
import lib  # noqa: E402


class FlopsTest(unittest.TestCase):
    def test_matmul_params_of_the_two_shapes(self):
        # Llama-2-7b: 6.74B parameters of which the 131M of the embedding
        # are a lookup; TinyLlama: 1.10B with a 65.5M embedding.
        self.assertEqual(flops.matmul_params(flops.SHAPES["7b"]), 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008) + 4096 * 32000)
        self.assertAlmostEqual(flops.matmul_params(flops.SHAPES["7b"]) + 4096 * 32000, 6.738e9, delta=1e7)
        self.assertAlmostEqual(flops.matmul_params(flops.SHAPES["1b"]) + 2048 * 32000, 1.100e9, delta=1e7)

    def test_lora_training_counts_no_weight_gradients(self):
        s = flops.SHAPES["1b"]
        n = flops.matmul_params(s)
        t = flops.lora_train_per_token(s, 2048, 8, ["q_proj", "v_proj"])
        attn = 3 * 2 * 22 * 2048 * 2048
        lora = 3 * 22 * 2 * 8 * ((2048 + 2048) + (2048 + 256))
        self.assertEqual(t, 4 * n + attn + lora)
        self.assertEqual(flops.full_train_per_token(s, 2048), 6 * n + attn)

    def test_forward_flops_of_sequences(self):
        s = flops.SHAPES["1b"]
        n = flops.matmul_params(s)
        self.assertEqual(flops.forward_flops(s, [10, 20]),
                         2 * n * 30 + 2 * 22 * 2048 * (10 * 10 + 20 * 20))

    def test_utilisation(self):
        self.assertAlmostEqual(flops.utilisation(400e12, 800), 0.5)
        self.assertIsNone(flops.utilisation(1.0, None))


class ReportTest(unittest.TestCase):
    def test_written_after_every_change(self):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "stage9.json")
        r = lib.Report(path, "demo", toy=True)
        self.assertEqual(json.load(open(path))["status"], "running")
        lib.run_check(r, "good", lambda: (True, {"x": 1}))
        lib.run_check(r, "bad", lambda: (False, {"x": 2}))
        lib.run_check(r, "broken", lambda: 1 / 0)

        def skip():
            raise lib.Skip("not here")

        lib.run_check(r, "skipped", skip)
        lib.run_check(r, "odd names", lambda: (True, {"name": "n", "status": "figure"}))
        doc = json.load(open(path))
        self.assertEqual(doc["checks"]["good"]["status"], "passed")
        self.assertEqual(doc["checks"]["good"]["x"], 1)
        self.assertEqual(doc["checks"]["bad"]["status"], "failed")
        self.assertIn("ZeroDivisionError", doc["checks"]["broken"]["error"])
        self.assertEqual(doc["checks"]["skipped"], {"status": "skipped", "reason": "not here"})
        self.assertEqual(doc["checks"]["odd names"]["status"], "passed")
        self.assertEqual(doc["checks"]["odd names"]["name"], "n")
        r.failed(RuntimeError("stopped"))
        r.finish()
        doc = json.load(open(path))
        self.assertEqual((doc["status"], doc["passed"], doc["failed"], doc["skipped"]), ("done", 2, 3, 1))
        self.assertIn("stopped", doc["checks"]["stage_error"]["error"])
        self.assertEqual(sorted(os.listdir(d)), ["stage9.json"])


class RunTest(unittest.TestCase):
    def test_output_and_failure(self):
        self.assertEqual(lib.run([sys.executable, "-c", "print('hi')"], 30), "hi\n")
        with self.assertRaises(lib.ChildError) as e:
            lib.run([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"], 30)
        self.assertIn("exit status 3", str(e.exception))
        self.assertIn("boom", str(e.exception))
        rc, out = lib.run_status([sys.executable, "-c", "print('x'); raise SystemExit(4)"], 30)
        self.assertEqual((rc, out), (4, "x\n"))

    def test_timeout_interrupts(self):
        # The child handles SIGINT by printing and exiting, as gpucheck
        # cancels its call.
        code = "import signal, sys, time\n" \
               "signal.signal(signal.SIGINT, lambda *a: (print('interrupted'), sys.exit(1)))\n" \
               "time.sleep(30)\n"
        began = time.time()
        with self.assertRaises(lib.ChildError) as e:
            lib.run([sys.executable, "-c", code], 1)
        self.assertIn("timed out", str(e.exception))
        self.assertLess(time.time() - began, 10)

    def test_clock(self):
        c = lib.Clock(time.time() + 100)
        self.assertTrue(c.allows(50))
        self.assertFalse(c.allows(200))


if __name__ == "__main__":
    unittest.main()
