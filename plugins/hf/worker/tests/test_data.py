import json
import os
import tempfile
import unittest

import torch

from dag_hf_worker import data
from dag_hf_worker.channel import WorkerError
from dag_hf_worker.losses import IGNORE

from toymodel import BOS, EOS, ByteTokenizer


class MergingTokenizer(ByteTokenizer):
    """Bytes, except that ": A" is one token (300): the prompt's last token
    merges with the answer, as SentencePiece does."""

    def encode(self, text):
        out, b, i = [], text.encode(), 0
        while i < len(b):
            if b[i:i + 3] == b": A":
                out.append(300)
                i += 3
            else:
                out.append(b[i])
                i += 1
        return out


class SFTExampleTest(unittest.TestCase):
    tok = ByteTokenizer()

    def test_masks_bos_and_prompt(self):
        ids, labels = data.sft_example(self.tok, {"prompt": "hi", "response": "yo"}, "Q: {prompt}\nA:", 64)
        prompt = list(b"Q: hi\nA:")
        self.assertEqual(ids, [BOS] + prompt + list(b"yo") + [EOS])
        self.assertEqual(labels, [IGNORE] * (1 + len(prompt)) + list(b"yo") + [EOS])

    def test_truncates_keeping_the_start(self):
        ids, labels = data.sft_example(self.tok, {"prompt": "p", "response": "abcdefgh"}, "{prompt}", 5)
        self.assertEqual(ids, [BOS, ord("p"), ord("a"), ord("b"), ord("c")])
        self.assertEqual(labels, [IGNORE, IGNORE, ord("a"), ord("b"), ord("c")])

    def test_system_message(self):
        self.assertEqual(data.render_prompt("Q: {prompt}", "x", "sys"), "sys\n\nQ: x")
        self.assertEqual(data.render_prompt("[{system}] {prompt}", "x", "sys"), "[sys] x")

    def test_split_moves_back_on_merge(self):
        p, a = data.split_answer(MergingTokenizer(), "Q: x\nA:", " A")
        self.assertEqual(p, list(b"Q: x\nA"))
        self.assertEqual(a, [300])

    def test_packing_keeps_masks(self):
        ex = [([1, 2, 3], [IGNORE, 2, 3]), ([4, 5, 6, 7], [IGNORE, IGNORE, 6, 7]), ([8], [8])]
        # [7, 8] is the remainder, dropped.
        self.assertEqual(data.pack(ex, 3), [([1, 2, 3], [IGNORE, 2, 3]), ([4, 5, 6], [IGNORE, IGNORE, 6])])
        self.assertEqual(len(data.pack(ex, 4)), 2)


class DPOExampleTest(unittest.TestCase):
    tok = ByteTokenizer()
    rec = {"prompt": "abcdefgh", "chosen": "XY", "rejected": "Z"}

    def test_layout(self):
        (ci, cl), (ri, rl) = data.dpo_example(self.tok, self.rec, "{prompt}", 64, 32)
        self.assertEqual(ci, [BOS] + list(b"abcdefghXY") + [EOS])
        self.assertEqual(cl, [IGNORE] * 9 + list(b"XY") + [EOS])
        self.assertEqual(ri, [BOS] + list(b"abcdefghZ") + [EOS])

    def test_long_pair_keeps_prompt_end_then_cuts_answers(self):
        (ci, cl), (ri, _) = data.dpo_example(self.tok, self.rec, "{prompt}", 8, 4)
        self.assertEqual(ci[:4], [BOS] + list(b"fgh"))
        self.assertEqual(ci, [BOS] + list(b"fghXY") + [EOS])
        self.assertLessEqual(len(ci), 8)
        rec = {"prompt": "ab", "chosen": "0123456789", "rejected": "z"}
        (ci, cl), _ = data.dpo_example(self.tok, rec, "{prompt}", 6, 3)
        self.assertEqual(ci, [BOS] + list(b"ab") + list(b"012"))


class RecordsTest(unittest.TestCase):
    def write(self, lines):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "data.jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")
        return d

    def test_reads_and_digests(self):
        d = self.write([json.dumps({"prompt": "a", "response": "b"}), ""])
        recs, digest = data.read_records(d, "sft")
        self.assertEqual(recs, [{"prompt": "a", "response": "b"}])
        self.assertTrue(digest.startswith("sha256:"))

    def test_errors(self):
        with self.assertRaises(WorkerError) as e:
            data.read_records(tempfile.mkdtemp(), "sft")
        self.assertEqual(e.exception.cls, "not_found")
        d = self.write([json.dumps({"prompt": "a", "chosen": "b"})])
        with self.assertRaises(WorkerError) as e:
            data.read_records(d, "dpo")
        self.assertEqual(e.exception.cls, "invalid_argument")
        self.assertIn("line 1", str(e.exception))


class BatchingTest(unittest.TestCase):
    def test_order_is_a_function_of_seed_and_step(self):
        n, bs = 10, 4
        epoch = [data.batch_indices(n, bs, 7, s) for s in range(3)]
        self.assertEqual(sorted(sum(epoch, [])), list(range(n)))
        self.assertEqual([len(b) for b in epoch], [4, 4, 2])
        self.assertEqual(data.batch_indices(n, bs, 7, 1), epoch[1])
        self.assertNotEqual(data.batch_indices(n, bs, 7, 3), epoch[0])  # reshuffled

    def test_to_device_on_the_host(self):
        t = torch.tensor([[1, 2], [3, 4]])
        self.assertTrue(torch.equal(data.to_device(t, "cpu"), t))
        self.assertTrue(torch.equal(data.to_device(t, torch.device("cpu")), t))

    def test_collate_pads_right(self):
        ids, mask, labels = data.collate([([1, 2, 3], [IGNORE, 2, 3]), ([4], [4])], 0)
        self.assertEqual(ids.tolist(), [[1, 2, 3], [4, 0, 0]])
        self.assertEqual(mask.tolist(), [[1, 1, 1], [1, 0, 0]])
        self.assertEqual(labels.tolist(), [[IGNORE, 2, 3], [4, IGNORE, IGNORE]])


if __name__ == "__main__":
    unittest.main()
