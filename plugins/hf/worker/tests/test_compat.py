import unittest

from dag_hf_worker import compat


class VersionTest(unittest.TestCase):
    def test_version_tuple(self):
        self.assertEqual(compat.version_tuple("5.17.0"), (5, 17, 0))
        self.assertEqual(compat.version_tuple("4.57.6+cu121"), (4, 57, 6))
        self.assertEqual(compat.version_tuple("5.0.0.dev0"), (5, 0, 0))
        self.assertEqual(compat.version_tuple("4.31"), (4, 31, 0))
        self.assertEqual(compat.version_tuple("unknown"), (0, 0, 0))
        self.assertEqual(compat.version_tuple(None), (0, 0, 0))

    def test_dtype_keyword(self):
        self.assertEqual(compat.dtype_keyword("5.17.0"), "dtype")
        self.assertEqual(compat.dtype_keyword("4.56.0"), "dtype")
        self.assertEqual(compat.dtype_keyword("4.55.4"), "torch_dtype")
        self.assertEqual(compat.dtype_keyword("4.31.0"), "torch_dtype")


# Stand-ins with the signatures of the two transformers lines.
def save_v4(save_directory, is_main_process=True, state_dict=None, safe_serialization=True, **kwargs):
    pass


def save_v5(save_directory, is_main_process=True, state_dict=None, max_shard_size="50GB", **kwargs):
    pass


def gc_new(gradient_checkpointing_kwargs=None):
    pass


def gc_old():
    pass


class KeywordTest(unittest.TestCase):
    def test_save_kwargs(self):
        self.assertEqual(compat.save_kwargs(save_v4), {"safe_serialization": True})
        self.assertEqual(compat.save_kwargs(save_v5), {})  # **kwargs does not count

    def test_checkpointing_kwargs(self):
        self.assertEqual(compat.checkpointing_kwargs(gc_new),
                         {"gradient_checkpointing_kwargs": {"use_reentrant": False}})
        self.assertEqual(compat.checkpointing_kwargs(gc_old), {})

    def test_accepts_bound_methods_and_builtins(self):
        class M:
            def save_pretrained(self, d, safe_serialization=True):
                pass

        self.assertTrue(compat.accepts(M().save_pretrained, "safe_serialization"))
        self.assertFalse(compat.accepts(M().save_pretrained, "self"))
        self.assertFalse(compat.accepts(len, "x"))  # no signature to read: not accepted


if __name__ == "__main__":
    unittest.main()
