"""A model loader for the throughput runs (DAG_HF_TEST_LOADER=
randomweights:load, this folder on PYTHONPATH): it builds the model of a
folder's config.json with random weights directly on the GPU and hands it
to the worker's own model handle (hfmodel.Handle), so that training and
scoring run exactly as for a checkpoint read from disk. Building a 7B
model takes seconds; writing and reading its 13 GB would take a minute of
the check's budget. Loading real checkpoints is checked by the other
stages."""

import torch
import transformers

from dag_hf_worker import compat, hfmodel


def load(base, adapters, params, training):
    if adapters:
        raise ValueError("randomweights: adapter chains are not supported")
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    cfg = transformers.AutoConfig.from_pretrained(base)
    dtype = hfmodel.DTYPES[params["dtype"]]
    torch.manual_seed(0)
    with device:
        model = transformers.AutoModelForCausalLM.from_config(
            cfg, **{compat.dtype_keyword(transformers.__version__): dtype})
    model.to(device=device, dtype=dtype)
    tok = transformers.AutoTokenizer.from_pretrained(base)
    return hfmodel.Handle(model, hfmodel.Tokenizer(tok), device, params)
