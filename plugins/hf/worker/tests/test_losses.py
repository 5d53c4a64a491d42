import math
import unittest

import torch

from dag_hf_worker import losses


def logsig(x):
    return -math.log1p(math.exp(-x))


class DPOLossTest(unittest.TestCase):
    # Fixed summed log-probs of two pairs: policy chosen/rejected, reference.
    pc = torch.tensor([-10.0, -20.0])
    pr = torch.tensor([-12.0, -18.0])
    rc = torch.tensor([-11.0, -19.0])
    rr = torch.tensor([-11.5, -19.5])

    def test_formula(self):
        for beta, eps in ((0.1, 0.0), (0.5, 0.0), (0.1, 0.2)):
            lv, ch, rj = losses.dpo_loss(self.pc, self.pr, self.rc, self.rr, beta, eps)
            for i in range(2):
                h = (self.pc[i] - self.pr[i]).item() - (self.rc[i] - self.rr[i]).item()
                want = -(1 - eps) * logsig(beta * h) - eps * logsig(-beta * h)
                self.assertAlmostEqual(lv[i].item(), want, places=5)
                self.assertAlmostEqual(ch[i].item(), beta * (self.pc[i] - self.rc[i]).item(), places=5)
                self.assertAlmostEqual(rj[i].item(), beta * (self.pr[i] - self.rr[i]).item(), places=5)

    def test_equal_policy_and_reference(self):
        lv, ch, rj = losses.dpo_loss(self.rc, self.rr, self.rc, self.rr, 0.1)
        for v in lv:
            self.assertAlmostEqual(v.item(), math.log(2), places=6)
        m = losses.dpo_metrics(lv, ch, rj)
        self.assertEqual(m["reward_accuracy"], 0.0)  # ties are not wins
        self.assertAlmostEqual(m["reward_margin"], 0.0)

    def test_metrics(self):
        lv, ch, rj = losses.dpo_loss(self.pc, self.pr, self.rc, self.rr, 0.1)
        m = losses.dpo_metrics(lv, ch, rj)
        # pair 0: r_w = 0.1, r_l = -0.05 (win); pair 1: r_w = -0.1, r_l = 0.15
        self.assertAlmostEqual(m["reward_chosen"], 0.0, places=5)
        self.assertAlmostEqual(m["reward_rejected"], 0.05, places=5)
        self.assertAlmostEqual(m["reward_margin"], -0.05, places=5)
        self.assertEqual(m["reward_accuracy"], 0.5)
        self.assertAlmostEqual(m["loss"], lv.mean().item(), places=6)

    def test_gradient_flows_to_policy_only(self):
        pc = self.pc.clone().requires_grad_()
        lv, ch, _ = losses.dpo_loss(pc, self.pr, self.rc, self.rr, 0.1)
        lv.sum().backward()
        self.assertTrue((pc.grad < 0).all())  # raising chosen lowers the loss
        self.assertFalse(ch.requires_grad)


class LogProbTest(unittest.TestCase):
    def setUp(self):
        g = torch.Generator().manual_seed(0)
        self.logits = torch.randn(2, 5, 7, generator=g)
        self.labels = torch.tensor([[-100, -100, 3, 4, 1], [-100, 2, 6, -100, -100]])

    def direct(self, b):
        lp = self.logits[b].log_softmax(-1)
        return sum(lp[t - 1, self.labels[b, t]].item() for t in range(1, 5) if self.labels[b, t] != -100)

    def test_sequence_logps(self):
        got = losses.sequence_logps(self.logits, self.labels)
        for b in range(2):
            self.assertAlmostEqual(got[b].item(), self.direct(b), places=5)

    def test_sft_nll_is_token_sum(self):
        nll, n = losses.sft_nll(self.logits, self.labels)
        self.assertEqual(n, 5)
        self.assertAlmostEqual(nll.item(), -(self.direct(0) + self.direct(1)), places=5)

    def test_bf16_logits_are_upcast(self):
        got = losses.sequence_logps(self.logits.bfloat16(), self.labels)
        self.assertEqual(got.dtype, torch.float32)


class DPOMetricTensorTest(unittest.TestCase):
    def test_same_as_the_floats(self):
        lv = torch.tensor([0.5, 0.7])
        ch, rj = torch.tensor([1.0, -1.0]), torch.tensor([0.0, 0.0])
        t = losses.dpo_metric_tensor(lv, ch, rj)
        self.assertEqual(dict(zip(losses.METRICS, t.tolist())), losses.dpo_metrics(lv, ch, rj))
        self.assertAlmostEqual(losses.dpo_metrics(lv, ch, rj)["reward_accuracy"], 0.5)


class TokenNLLTest(unittest.TestCase):
    def test_matches_shifted_cross_entropy(self):
        torch.manual_seed(0)
        logits = torch.randn(3, 7, 11, requires_grad=True)
        labels = torch.randint(0, 11, (3, 7))
        labels[0, :3] = losses.IGNORE
        labels[2, 5:] = losses.IGNORE
        nll, mask = losses.token_nll(logits, labels)
        self.assertEqual(tuple(nll.shape), (3, 6))
        for b in range(3):
            for t in range(6):
                want = 0.0
                if labels[b, t + 1] != losses.IGNORE:
                    want = -logits[b, t].log_softmax(-1)[labels[b, t + 1]].item()
                self.assertAlmostEqual(nll[b, t].item(), want, places=5)
                self.assertEqual(bool(mask[b, t]), labels[b, t + 1].item() != losses.IGNORE)
        total, count = losses.sft_nll(logits, labels)
        total.backward()
        self.assertEqual(count, int(mask.sum()))
        self.assertTrue(torch.all(logits.grad[:, -1] == 0))  # the last position predicts nothing


if __name__ == "__main__":
    unittest.main()
