import os
import time
import unittest
from unittest import mock

from dag_hf_worker import steptime


class StepTimerTest(unittest.TestCase):
    def test_disabled_reports_nothing(self):
        t = steptime.StepTimer(enabled=False)
        t.begin_step()
        with t.phase("forward"):
            pass
        t.end_step()
        self.assertEqual(t.means(), {})

    def test_means_skip_warmup_steps(self):
        t = steptime.StepTimer(enabled=True, skip=1, cuda=False)
        for step in range(3):
            t.begin_step()
            with t.phase("data"):
                time.sleep(0.02 if step == 0 else 0.001)
            with t.phase("forward"):
                time.sleep(0.005)
            with t.phase("backward"):
                pass
            with t.phase("optimizer"):
                pass
            t.end_step()
        m = t.means()
        self.assertEqual(set(m), {"time_data_s", "time_forward_s", "time_backward_s", "time_optimizer_s", "time_step_s"})
        self.assertLess(m["time_data_s"], 0.015)  # the slow first step is left out
        self.assertGreaterEqual(m["time_forward_s"], 0.004)
        self.assertGreaterEqual(m["time_step_s"], m["time_data_s"] + m["time_forward_s"])

    def test_from_env(self):
        with mock.patch.dict(os.environ, {"DAG_HF_PROFILE": "2"}):
            t = steptime.from_env()
            self.assertTrue(t.enabled)
            self.assertEqual(t.skip, 2)
        with mock.patch.dict(os.environ, {"DAG_HF_PROFILE": "no"}):
            self.assertFalse(steptime.from_env().enabled)
        with mock.patch.dict(os.environ, {}, clear=True):
            self.assertFalse(steptime.from_env().enabled)


if __name__ == "__main__":
    unittest.main()
