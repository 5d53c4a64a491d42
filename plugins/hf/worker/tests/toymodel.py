"""A tiny causal LM in plain torch, standing in for transformers + peft
where they are absent (CI). It implements the worker's model handle
(dag_hf_worker/backend.py); the worker loads it when DAG_HF_TEST_LOADER is
"toymodel:load" and this folder is on PYTHONPATH.

Tokens are bytes 0-255, BOS 256, EOS 257 (also the pad). A base folder
holds config.json ({"model_type": "dag_toy", ...}) and model.pt.
"""

import contextlib
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

BOS, EOS, VOCAB = 256, 257, 258


class ByteTokenizer:
    bos_token_id, eos_token_id, pad_token_id = BOS, EOS, EOS

    def encode(self, text):
        return list(text.encode("utf-8"))


class LoRALinear(nn.Module):
    """y = x W^T + (alpha/r) dropout(x) A^T B^T, A Kaiming-uniform, B zero
    (peft's layout); ``enabled`` switches the adapter off."""

    def __init__(self, base, r, alpha, dropout):
        super().__init__()
        self.base = base
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scale = alpha / r
        self.drop = nn.Dropout(dropout)
        self.enabled = True

    def forward(self, x):
        y = self.base(x)
        if self.enabled:
            y = y + self.scale * F.linear(F.linear(self.drop(x), self.lora_A), self.lora_B)
        return y

    def merged_weight(self):
        return self.base.weight + self.scale * self.lora_B @ self.lora_A


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q_proj, self.k_proj = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.v_proj, self.o_proj = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)
        self.up_proj, self.down_proj = nn.Linear(d, 4 * d, bias=False), nn.Linear(4 * d, d, bias=False)

    def forward(self, x, mask):
        b, t, d = x.shape
        h = self.ln1(x)
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q_proj(h)), split(self.k_proj(h)), split(self.v_proj(h))
        att = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + self.o_proj((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.down_proj(F.gelu(self.up_proj(self.ln2(x))))


class ToyLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d = cfg["d_model"]
        self.cfg = cfg
        self.tok = nn.Embedding(VOCAB, d)
        self.pos = nn.Embedding(cfg["context"], d)
        self.blocks = nn.ModuleList(Block(d, cfg["heads"]) for _ in range(cfg["layers"]))
        self.ln = nn.LayerNorm(d)
        self.head = nn.Linear(d, VOCAB, bias=False)

    def forward(self, ids, attention_mask=None):
        """attention_mask None means no row is padded."""
        t = ids.shape[1]
        if attention_mask is None:
            attention_mask = torch.ones_like(ids)
        x = self.tok(ids) + self.pos(torch.arange(t, device=ids.device))
        causal = torch.ones(t, t, dtype=torch.bool, device=ids.device).tril()
        mask = causal[None, None] & attention_mask.bool()[:, None, None, :]
        mask = mask | torch.eye(t, dtype=torch.bool, device=ids.device)[None, None]
        for blk in self.blocks:
            x = blk(x, mask)
        return self.head(self.ln(x))


def make_base(folder, seed=1, d_model=32, layers=2, heads=2, context=96):
    """Writes a randomly initialised base model folder."""
    os.makedirs(folder, exist_ok=True)
    cfg = {"model_type": "dag_toy", "d_model": d_model, "layers": layers, "heads": heads, "context": context}
    torch.manual_seed(seed)
    model = ToyLM(cfg)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    torch.save(model.state_dict(), os.path.join(folder, "model.pt"))
    with open(os.path.join(folder, "tokenizer.json"), "w") as f:
        json.dump({"type": "bytes"}, f)
    return folder


def _targets(model, modules):
    for blk in model.blocks:
        for name in modules:
            yield blk, name


class Handle:
    def __init__(self, model):
        self.model = model
        self.tokenizer = ByteTokenizer()
        self.device = torch.device("cpu")
        self.max_length = model.cfg["context"]
        self.n_params = sum(x.numel() for x in model.parameters())
        self.lora = None
        self.layers = []

    def logits(self, ids, mask):
        return self.model(ids, mask)

    def add_adapter(self, lora):
        for x in self.model.parameters():
            x.requires_grad_(False)
        self.lora = dict(lora)
        for blk, name in _targets(self.model, lora["target_modules"]):
            layer = LoRALinear(getattr(blk, name), lora["rank"], lora["alpha"], lora["dropout"])
            setattr(blk, name, layer)
            self.layers.append((name, layer))

    def trainable_parameters(self):
        return [x for x in self.model.parameters() if x.requires_grad]

    @contextlib.contextmanager
    def adapter_disabled(self):
        for _, l in self.layers:
            l.enabled = False
        try:
            yield
        finally:
            for _, l in self.layers:
                l.enabled = True

    def _adapter_state(self):
        return {"%d.%s.%s" % (i // len(self.lora["target_modules"]), n, p): getattr(l, p).detach().clone()
                for i, (n, l) in enumerate(self.layers) for p in ("lora_A", "lora_B")}

    def save_adapter(self, folder):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "adapter_config.json"), "w") as f:
            json.dump(self.lora, f, sort_keys=True)
        torch.save(self._adapter_state(), os.path.join(folder, "adapter_model.pt"))

    def load_adapter(self, folder):
        sd = torch.load(os.path.join(folder, "adapter_model.pt"))
        with torch.no_grad():
            for i, (n, l) in enumerate(self.layers):
                for p in ("lora_A", "lora_B"):
                    getattr(l, p).copy_(sd["%d.%s.%s" % (i // len(self.lora["target_modules"]), n, p)])

    def save_merged(self, folder):
        os.makedirs(folder, exist_ok=True)
        sd = {}
        for k, v in self.model.state_dict().items():
            if "lora_" not in k:
                sd[k.replace(".base.", ".")] = v
        for blk_i, blk in enumerate(self.model.blocks):
            for name in self.lora["target_modules"]:
                sd["blocks.%d.%s.weight" % (blk_i, name)] = getattr(blk, name).merged_weight().detach()
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(self.model.cfg, f)
        torch.save(sd, os.path.join(folder, "model.pt"))

    def save_tokenizer(self, folder):
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            json.dump({"type": "bytes"}, f)

    def train_mode(self, dropout):
        self.model.train()
        if not dropout:
            for m in self.model.modules():
                if isinstance(m, nn.Dropout):
                    m.p = 0.0

    def eval_mode(self):
        self.model.eval()


def load(base, adapters, params, training):
    """The worker's test loader: the base folder, then each adapter of the
    chain merged into its weights."""
    with open(os.path.join(base, "config.json")) as f:
        cfg = json.load(f)
    model = ToyLM(cfg)
    model.load_state_dict(torch.load(os.path.join(base, "model.pt")))
    for a in adapters:
        with open(os.path.join(a, "adapter_config.json")) as f:
            lora = json.load(f)
        h = Handle(model)
        h.add_adapter(lora)
        h.load_adapter(a)
        with torch.no_grad():
            for blk in model.blocks:
                for name in lora["target_modules"]:
                    layer = getattr(blk, name)
                    layer.base.weight.copy_(layer.merged_weight())
                    setattr(blk, name, layer.base)
        for x in model.parameters():
            x.requires_grad_(True)
    if os.environ.get("DAG_HF_TEST_PIDFILE"):
        with open(os.environ["DAG_HF_TEST_PIDFILE"], "w") as f:
            f.write(str(os.getpid()))
    if os.environ.get("DAG_HF_TEST_CRASH") == "load":
        os.write(2, b"toymodel: simulated crash while loading\n")
        os._exit(3)
    return Handle(model)
