import json
import os
import tempfile
import unittest

import torch

from dag_hf_worker import score

import toymodel
from toymodel import BOS, EOS, ByteTokenizer


def direct(model, ctx, cont):
    """Log-likelihood of cont after ctx, one request at a time, unpadded."""
    seq = torch.tensor([ctx + cont])
    with torch.no_grad():
        lp = model(seq, torch.ones_like(seq))[0].log_softmax(-1)
    total, greedy = 0.0, True
    for i, t in enumerate(cont):
        row = lp[len(ctx) + i - 1]
        total += row[t].item()
        greedy = greedy and row.argmax().item() == t
    return total, greedy


class EncodeTest(unittest.TestCase):
    tok = ByteTokenizer()

    def test_trailing_whitespace_moves(self):
        c, x = score.encode_request(self.tok, {"context": "Q: a ", "continuation": "b"}, False)
        self.assertEqual(c, list(b"Q: a"))
        self.assertEqual(x, list(b" b"))

    def test_empty_context_is_eos(self):
        c, x = score.encode_request(self.tok, {"context": "", "continuation": "hi"}, False)
        self.assertEqual((c, x), ([EOS], list(b"hi")))

    def test_bos_context(self):
        c, x = score.encode_request(self.tok, {"context": "", "continuation": "hi", "bos_context": True}, False)
        self.assertEqual((c, x), ([BOS], list(b"hi")))

    def test_add_bos(self):
        c, _ = score.encode_request(self.tok, {"context": "a", "continuation": "b"}, True)
        self.assertEqual(c, [BOS, ord("a")])

    def test_truncation(self):
        inp, k, seq = score.truncate([1, 2, 3, 4], [5, 6], 3)
        self.assertEqual((inp, k, seq), ([3, 4, 5], 2, [3, 4, 5, 6]))
        inp, k, _ = score.truncate([1], [5, 6, 7, 8, 9], 3)
        self.assertEqual((inp, k), ([6, 7, 8], 3))


class LoglikelihoodTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = tempfile.mkdtemp()
        toymodel.make_base(d, seed=3)
        cls.h = toymodel.load(d, [], {}, False)
        cls.h.eval_mode()
        cls.reqs = [
            {"context": "Question: what is 2+2?\nAnswer:", "continuation": " 4"},
            {"context": "Question: what is 2+2?\nAnswer:", "continuation": " five"},
            {"context": "", "continuation": "A sentence to score.", "bos_context": True},
            {"context": "x", "continuation": "y"},
            {"context": "", "continuation": "no context"},
        ]

    def test_matches_direct_computation(self):
        tok = self.h.tokenizer
        got = score.loglikelihoods(self.h.logits, tok, self.reqs, False, 96, 2)
        for q, r in zip(self.reqs, got):
            ctx, cont = score.encode_request(tok, q, False)
            want, greedy = direct(self.h.model, ctx, cont)
            self.assertAlmostEqual(r["logprob"], want, places=4)
            self.assertEqual(r["tokens"], len(cont))
            self.assertEqual(r["greedy"], greedy)

    def test_batching_does_not_change_results(self):
        a = score.loglikelihoods(self.h.logits, self.h.tokenizer, self.reqs, False, 96, 1)
        b = score.loglikelihoods(self.h.logits, self.h.tokenizer, self.reqs, False, 96, 5)
        for x, y in zip(a, b):
            self.assertAlmostEqual(x["logprob"], y["logprob"], places=4)
            self.assertEqual((x["tokens"], x["greedy"]), (y["tokens"], y["greedy"]))

    def test_counts_input_tokens(self):
        stats = {}
        score.loglikelihoods(self.h.logits, self.h.tokenizer, self.reqs[:1], False, 96, 4, stats=stats)
        self.assertEqual(stats["tokens"], len("Question: what is 2+2?\nAnswer: 4") - 1)

    def test_positions_count_the_padding(self):
        stats = {}
        reqs = [{"context": "abcd", "continuation": "e"}, {"context": "ab", "continuation": "c"}]
        score.loglikelihoods(self.h.logits, self.h.tokenizer, reqs, False, 96, 2, stats=stats)
        # inputs of 4 and 2 tokens, padded to 4
        self.assertEqual((stats["tokens"], stats["positions"]), (6, 8))
        self.assertGreaterEqual(stats["model_seconds"], 0.0)
        self.assertGreaterEqual(stats["encode_seconds"], 0.0)

    def test_unpadded_batches_run_without_a_mask(self):
        masks = []

        def logits(ids, mask):
            masks.append(mask)
            return self.h.logits(ids, mask)

        reqs = [{"context": "abcd", "continuation": "e"}, {"context": "wxyz", "continuation": "e"},
                {"context": "ab", "continuation": "c"}, {"context": "a", "continuation": "c"}]
        score.loglikelihoods(logits, self.h.tokenizer, reqs, False, 96, 2)
        self.assertIsNone(masks[0])  # the two of length 4
        self.assertIsNotNone(masks[1])  # lengths 2 and 1

    def test_batched_encoding_matches_one_by_one(self):
        class Many(ByteTokenizer):
            calls = 0

            def encode_many(self, texts):
                Many.calls += 1
                return [self.encode(t) for t in texts]

        one = score.encode_requests(ByteTokenizer(), self.reqs, True)
        many = score.encode_requests(Many(), self.reqs, True)
        self.assertEqual(one, many)
        self.assertEqual(Many.calls, 1)
        self.assertEqual(one, [score.encode_request(ByteTokenizer(), q, True) for q in self.reqs])

    def test_long_continuations_are_normalised_in_parts(self):
        whole = score.loglikelihoods(self.h.logits, self.h.tokenizer, self.reqs, False, 96, 5)
        saved = score._ROWS
        score._ROWS = 3
        try:
            parts = score.loglikelihoods(self.h.logits, self.h.tokenizer, self.reqs, False, 96, 5)
        finally:
            score._ROWS = saved
        for x, y in zip(whole, parts):
            self.assertAlmostEqual(x["logprob"], y["logprob"], places=5)
            self.assertEqual((x["tokens"], x["greedy"]), (y["tokens"], y["greedy"]))

    def test_results_file(self):
        d = tempfile.mkdtemp()
        path = os.path.join(d, "out.jsonl")
        score.write_results(path, [{"logprob": -1.5, "tokens": 2, "greedy": False}])
        with open(path) as f:
            self.assertEqual(json.loads(f.readline()), {"logprob": -1.5, "tokens": 2, "greedy": False})
        self.assertEqual(os.listdir(d), ["out.jsonl"])


if __name__ == "__main__":
    unittest.main()
