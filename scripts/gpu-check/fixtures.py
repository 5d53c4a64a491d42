"""Models and data the GPU check builds itself (it has no network): a
byte-level BPE tokenizer trained on a synthetic corpus, random-weight
Llama models, training records and Score requests.

With toy=True (the dry run on a machine without transformers) the model is
the worker tests' toy causal LM (plugins/hf/worker/tests/toymodel.py) and
the tokenizer its byte tokenizer."""

import json
import os
import random

WORDS = ["alpha", "beta", "gamma", "delta", "sky", "blue", "red", "green", "sea", "the", "is", "what",
         "colour", "answer", "question", "of", "a", "and", "to", "in"]

# The correctness model: 2 layers, grouped-query attention, float32.
TINY = dict(hidden_size=64, intermediate_size=176, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256)
TINY_LAYERS = 2

# The throughput shapes (flops.SHAPES): TinyLlama-1.1B and Llama-2-7b.
PERF = {
    "1b": dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
               num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=4096),
    "7b": dict(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
               num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096),
}


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def tokenizer(folder):
    """Trains and saves a byte-level BPE of 512 tokens with <s>, </s> and
    <pad>; returns the transformers tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    corpus = [sentence(rng, 12) for _ in range(2000)]
    corpus += ["Question: what is %d+%d?\n\nAnswer: %d." % (i, j, i + j) for i in range(30) for j in range(30)]
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=512, special_tokens=["<s>", "</s>", "<pad>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    # PreTrainedTokenizerFast is transformers 5's name for TokenizersBackend
    # too; it keeps an object it is given as it is.
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    tok.save_pretrained(folder)
    return tok


def llama(folder, tok, dtype_name, weights=True, seed=0, **shape):
    """A Llama model folder with the tokenizer. With weights=False only
    config.json and the tokenizer are written: the throughput runs build
    their random weights on the GPU (randomweights.py) instead of writing
    and reading gigabytes."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from dag_hf_worker import compat

    shape.setdefault("vocab_size", len(tok))
    cfg = LlamaConfig(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id, **shape)
    os.makedirs(folder, exist_ok=True)
    if weights:
        torch.manual_seed(seed)
        model = LlamaForCausalLM(cfg).to(getattr(torch, dtype_name))
        model.save_pretrained(folder, **compat.save_kwargs(model.save_pretrained))
    else:
        cfg.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def toy_base(folder, seed=1):
    import toymodel

    return toymodel.make_base(folder, seed=seed, context=128)


def write_records(folder, records, name="data.jsonl"):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return folder


def sft_records():
    return [{"prompt": "what is %d+%d?" % (i, j), "response": "%d." % (i + j)} for i in range(8) for j in range(8)]


def dpo_records():
    return [{"prompt": "what colour is the %s?" % w, "chosen": " blue.", "rejected": " red, green and alpha."}
            for w in WORDS]


def score_requests():
    """Requests of every kind the scorer handles (lm-evaluation-harness
    bookkeeping): context and continuation, per-sentence perplexity with a
    BOS context, a context ending in whitespace, an empty context."""
    rng = random.Random(1)
    reqs = []
    for i in range(40):
        reqs.append({"context": "Question: what is %d+%d?\n\nAnswer:" % (i % 8, i // 8), "continuation": " %d." % (i % 13)})
    for i in range(20):
        reqs.append({"context": "", "continuation": sentence(rng, 8 + i), "bos_context": True})
    reqs.append({"context": "the sky is ", "continuation": "blue"})
    reqs.append({"context": "", "continuation": "no context at all"})
    return reqs


def perf_records(n=160, words=1400, prompt_words=20, seed=2):
    """Long SFT records: packed into blocks of 2048 tokens."""
    rng = random.Random(seed)
    return [{"prompt": sentence(rng, prompt_words), "response": sentence(rng, words)} for _ in range(n)]


def perf_requests(n=2000, seed=3):
    """Score requests of varied length (contexts of 40 to 300 words, short
    continuations), as benchmarks are."""
    rng = random.Random(seed)
    return [{"context": sentence(rng, rng.randint(40, 300)), "continuation": " " + sentence(rng, rng.randint(1, 8))}
            for _ in range(n)]


def write_requests(path, reqs):
    with open(path, "w") as f:
        for r in reqs:
            f.write(json.dumps(r) + "\n")
    return path
