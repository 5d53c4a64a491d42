#!/usr/bin/python3
"""PyTorch twin of dag's tinylm pretraining step, for the throughput benchmark.

Same architecture as plugins/tinylm (byte vocabulary of 258 tokens, learned
positions, pre-LayerNorm blocks with bias-free q/k/v/o projections, causal
attention, a tanh-GELU MLP of width 4*d, final LayerNorm, untied output),
same optimiser (AdamW 0.9/0.999/1e-8, no weight decay, gradient norm clipped
to 1) and the same batch shape. Prints one JSON line with tokens/s, where a
token is one input position of an optimiser step (batch x length), as in
BenchmarkTrainTokens. The defaults are tinylm's defaults.

Run: /usr/bin/python3 bench/tinylm_torch.py [--d-model 64 --layers 2 ...]
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB = 258


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.up = nn.Linear(d, 4 * d, bias=False)
        self.down = nn.Linear(4 * d, d, bias=False)

    def forward(self, x):
        B, T, d = x.shape
        h = self.ln1(x)
        split = lambda t: t.view(B, T, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        if self.manual_attention:
            s = (q @ k.transpose(-1, -2)) / math.sqrt(d // self.heads)
            mask = torch.ones(T, T, dtype=torch.bool).tril()
            a = s.masked_fill(~mask, float("-inf")).softmax(-1) @ v
        else:
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(B, T, d))
        return x + self.down(F.gelu(self.up(self.ln2(x)), approximate="tanh"))


class TinyLM(nn.Module):
    def __init__(self, d, layers, heads, context, manual_attention):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, d)
        self.pos = nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(layers))
        for b in self.blocks:
            b.manual_attention = manual_attention
        self.ln_f = nn.LayerNorm(d, eps=1e-5)
        self.head = nn.Linear(d, VOCAB, bias=False)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def forward(self, tokens):
        T = tokens.shape[1]
        x = self.tok(tokens) + self.pos(torch.arange(T))
        for b in self.blocks:
            x = b(x)
        return self.head(self.ln_f(x))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--length", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--manual-attention", action="store_true", help="matmul+softmax attention instead of SDPA (always so on torch < 2.0)")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    if not hasattr(F, "scaled_dot_product_attention"):  # torch < 2.0 (Debian 12 ships 1.13)
        a.manual_attention = True
    model = TinyLM(a.d_model, a.layers, a.heads, a.context, a.manual_attention)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    g = torch.Generator().manual_seed(1)
    stream = torch.randint(0, 256, (100_000,), generator=g)

    def step():
        off = torch.randint(0, len(stream) - a.length - 1, (a.batch_size,), generator=g)
        win = torch.stack([stream[o : o + a.length + 1] for o in off.tolist()])
        logits = model(win[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), win[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    el = time.perf_counter() - start
    print(json.dumps({
        "impl": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
        "attention": "manual" if a.manual_attention else "sdpa",
        "d_model": a.d_model, "layers": a.layers, "heads": a.heads, "batch_size": a.batch_size, "length": a.length,
        "steps": a.steps, "seconds": round(el, 3), "tokens_per_s": round(a.steps * a.batch_size * a.length / el, 1),
        "loss": round(loss, 4),
    }))


if __name__ == "__main__":
    main()
