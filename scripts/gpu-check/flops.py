"""Model FLOPs of the GPU check's throughput runs (docs/gpu.md, "FLOP
accounting"). A multiply-add is 2 FLOPs. Only the work the model needs
counts: recomputation under gradient checkpointing and the masked half of
causal attention do not.

Per token of a Llama with hidden size d, L layers, MLP size f, h heads of
which kv carry keys and values (head size d/h), vocabulary V:

- the matmul weights: N = L (2 d^2 + 2 d kvd + 3 d f) + d V, where kvd is
  kv d/h (q and o are d x d, k and v d x kvd, the MLP three d x f, the
  output head d x V; the embedding is a lookup, not a matmul);
- forward: 2 N, plus causal attention, which for a sequence of T tokens
  costs 2 T^2 d per layer (Q K^T and the weighted sum of V, each 2 T^2 d
  in full, half of it under the causal mask): 2 L d T per token;
- LoRA training (the base frozen): the backward pass computes the
  activations' gradients through every frozen matmul (another 2 N) and
  through attention (twice its forward), but no gradient of a frozen
  weight; each adapted d_in x d_out module of rank r adds 2 r (d_in +
  d_out) forward and twice that backward (its activation and weight
  gradients). Total: 4 N + 6 L d T + 6 r sum(d_in + d_out).
- full fine-tuning, for comparison (what "6N" tables quote): 6 N + 6 L d T.
"""


def shape(vocab, hidden, intermediate, layers, heads, kv_heads):
    return {"vocab": vocab, "hidden": hidden, "intermediate": intermediate, "layers": layers,
            "heads": heads, "kv_heads": kv_heads}


# The two throughput shapes: TinyLlama-1.1B and Llama-2-7b.
SHAPES = {
    "1b": shape(32000, 2048, 5632, 22, 32, 4),
    "7b": shape(32000, 4096, 11008, 32, 32, 32),
}


def kv_dim(s):
    return s["kv_heads"] * s["hidden"] // s["heads"]


def matmul_params(s):
    """N: the weights every token multiplies through."""
    d, f, kvd = s["hidden"], s["intermediate"], kv_dim(s)
    return s["layers"] * (2 * d * d + 2 * d * kvd + 3 * d * f) + d * s["vocab"]


def module_dims(s, name):
    """(d_in, d_out) of a Llama projection."""
    d, f, kvd = s["hidden"], s["intermediate"], kv_dim(s)
    return {"q_proj": (d, d), "k_proj": (d, kvd), "v_proj": (d, kvd), "o_proj": (d, d),
            "gate_proj": (d, f), "up_proj": (d, f), "down_proj": (f, d)}[name]


def attention_forward(s, seq_len):
    """Causal attention FLOPs per token of a sequence of seq_len tokens."""
    return 2 * s["layers"] * s["hidden"] * seq_len


def lora_forward(s, rank, modules):
    return s["layers"] * sum(2 * rank * sum(module_dims(s, m)) for m in modules)


def lora_train_per_token(s, seq_len, rank, modules):
    """FLOPs per token of a LoRA training step (forward and backward)."""
    n = matmul_params(s)
    return 4 * n + 3 * attention_forward(s, seq_len) + 3 * lora_forward(s, rank, modules)


def full_train_per_token(s, seq_len):
    return 6 * matmul_params(s) + 3 * attention_forward(s, seq_len)


def forward_flops(s, lengths):
    """Forward FLOPs of scoring sequences of the given token lengths
    (padding excluded)."""
    n = matmul_params(s)
    return sum(2 * n * t + attention_forward(s, t) * t for t in lengths)


def utilisation(flops_per_second, rate_tflops):
    """flops_per_second as a fraction of a rate in TFLOP/s (None when the
    rate is unknown)."""
    if not rate_tflops:
        return None
    return flops_per_second / (rate_tflops * 1e12)
