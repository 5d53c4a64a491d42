"""The model handle over transformers and peft (backend.py lists the
handle's methods). Imported only when a real checkpoint is loaded, so the
rest of the worker runs where these packages are absent."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
from typing import Any, ContextManager, List, Mapping, Optional, Sequence

import peft
import torch
import transformers

from . import compat
from .channel import precondition

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "vocab.json")


class Tokenizer:
    """encode() without special tokens, as lm-evaluation-harness v0.4.2
    and TRL's split encoding use it; pad falls back to EOS (docs/metrics.md, "SFT")."""

    def __init__(self, tok: Any) -> None:
        self.tok = tok
        self.bos_token_id = tok.bos_token_id
        self.eos_token_id = tok.eos_token_id
        self.pad_token_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id

    def encode(self, text: str) -> List[int]:
        return self.tok(text, add_special_tokens=False)["input_ids"]

    def encode_many(self, texts: Sequence[str]) -> List[List[int]]:
        """encode() of each text, in one call (the fast tokenizers encode a
        list in parallel)."""
        if not texts:
            return []
        return self.tok(list(texts), add_special_tokens=False)["input_ids"]


def _has_tokenizer(folder):
    return any(os.path.isfile(os.path.join(folder, f)) for f in TOKENIZER_FILES)


def load(base: str, adapters: Sequence[str], params: Mapping[str, Any], training: bool) -> "Handle":
    """Loads base in params.dtype (or 4-bit NF4 with load_in_4bit), applies
    and merges each adapter of the chain, and loads the outermost
    tokenizer."""
    dtype = DTYPES[params["dtype"]]
    cuda = torch.cuda.is_available()
    device = torch.device("cuda") if cuda else torch.device("cpu")
    kw = {compat.dtype_keyword(transformers.__version__): dtype}
    quant = params.get("load_in_4bit", False)
    if quant:
        if importlib.util.find_spec("bitsandbytes") is None:
            raise precondition("load_in_4bit: python package bitsandbytes missing (pip install bitsandbytes)")
        if not cuda:
            raise precondition("load_in_4bit: needs a CUDA device")
        kw["quantization_config"] = transformers.BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)
        kw["device_map"] = {"": torch.cuda.current_device()}
    elif cuda and _direct_to_device():
        kw["device_map"] = {"": torch.cuda.current_device()}
    model = transformers.AutoModelForCausalLM.from_pretrained(base, **kw)
    if "device_map" not in kw:
        model.to(device)
    for a in adapters:
        model = peft.PeftModel.from_pretrained(model, a).merge_and_unload()
    tokdir = base
    for a in adapters:
        if _has_tokenizer(a):
            tokdir = a
    tok = transformers.AutoTokenizer.from_pretrained(tokdir)
    return Handle(model, Tokenizer(tok), device, params)


def _direct_to_device():
    """Whether from_pretrained can place the weights on the GPU as it reads
    them (a device_map, which needs accelerate in 4.x and 5.x alike);
    otherwise the model is read into host memory and then moved."""
    return importlib.util.find_spec("accelerate") is not None


class Handle:
    def __init__(self, model: Any, tok: Tokenizer, device: "torch.device", params: Mapping[str, Any]) -> None:
        self.model = model
        self.tokenizer = tok
        self.device = device
        self.p = params
        cfg = model.config
        self.max_length = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None) or 2048
        self.n_params = sum(x.numel() for x in model.parameters())

    def logits(self, ids: "torch.Tensor", mask: Optional["torch.Tensor"]) -> "torch.Tensor":
        """Logits [B, T, V] in the model's dtype. mask None means no row is
        padded: transformers then runs causal attention without building a
        mask (the flash kernel of SDPA), as it does for an all-ones mask
        after checking it on the device."""
        return self.model(input_ids=ids, attention_mask=mask, use_cache=False).logits

    def add_adapter(self, lora: Mapping[str, Any]) -> None:
        gc = self.p.get("gradient_checkpointing", False)
        if self.p.get("load_in_4bit", False):
            prep = peft.prepare_model_for_kbit_training
            kw = compat.checkpointing_kwargs(prep) if gc else {}
            self.model = prep(self.model, use_gradient_checkpointing=gc, **kw)
        elif gc:
            enable = self.model.gradient_checkpointing_enable
            enable(**compat.checkpointing_kwargs(enable))
            # transformers 5 registers this hook itself; a second one would
            # only repeat it.
            if getattr(self.model, "_require_grads_hook", None) is None:
                self.model.enable_input_require_grads()
        cfg = peft.LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                              target_modules=list(lora["target_modules"]), bias="none", task_type="CAUSAL_LM")
        self.model = peft.get_peft_model(self.model, cfg)

    def trainable_parameters(self) -> List["torch.nn.Parameter"]:
        return [x for x in self.model.parameters() if x.requires_grad]

    def adapter_disabled(self) -> ContextManager[Any]:
        if isinstance(self.model, peft.PeftModel):
            return self.model.disable_adapter()
        return contextlib.nullcontext()

    def save_adapter(self, folder: str) -> None:
        self.model.save_pretrained(folder)
        # peft writes a model card naming the scratch folder the base was
        # read from; it says nothing the marker and adapter_config.json do
        # not, and would make equal runs write different bytes.
        card = os.path.join(folder, "README.md")
        if os.path.isfile(card):
            os.remove(card)
        # The base path is a scratch folder: point it at parent/ so that equal
        # runs write equal bytes.
        path = os.path.join(folder, "adapter_config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["base_model_name_or_path"] = "parent"
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)

    def load_adapter(self, folder: str) -> None:
        st = os.path.join(folder, "adapter_model.safetensors")
        if os.path.isfile(st):
            from safetensors.torch import load_file
            sd = load_file(st, device="cpu")
        else:
            sd = torch.load(os.path.join(folder, "adapter_model.bin"), map_location="cpu")
        peft.set_peft_model_state_dict(self.model, sd)

    def save_merged(self, folder: str) -> None:
        merged = self.model.merge_and_unload() if isinstance(self.model, peft.PeftModel) else self.model
        merged.save_pretrained(folder, **compat.save_kwargs(merged.save_pretrained))

    def save_tokenizer(self, folder: str) -> None:
        self.tokenizer.tok.save_pretrained(folder)

    def train_mode(self, dropout: bool) -> None:
        """Training keeps train() (gradient checkpointing only runs in it);
        without dropout every dropout layer is set to p=0, as TRL's DPO
        does."""
        self.model.train()
        if not dropout:
            for m in self.model.modules():
                if isinstance(m, torch.nn.Dropout):
                    m.p = 0.0

    def eval_mode(self) -> None:
        self.model.eval()
