#!/usr/bin/env bash
# GPU check of the hf backend (docs/gpu.md), for a machine with a CUDA GPU,
# PyTorch, transformers and peft, but no Go toolchain and no network.
#
#   usage: scripts/gpu-check.sh BIN_DIR [WORK_DIR]
#
# BIN_DIR holds dag-plugin-hf and gpucheck, built beforehand elsewhere:
#   CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -o BIN_DIR/ ./cmd/dag-plugin-hf ./scripts/gpucheck
#
# It builds a tiny random Llama and a byte-level BPE tokenizer with
# transformers/tokenizers (no downloads), runs SFT, DPO and Score through
# the plugin, checks that the losses fall and that Score matches a direct
# transformers computation to 1e-4, then measures LoRA SFT tokens/s and
# model FLOPs utilisation on random-weight Llama shapes (1.1B, then 7B if
# time allows) and Score tokens/s. Results: WORK_DIR/report.json.
# Environment: DAG_PYTHON (default python3), GPU_PEAK_TFLOPS (bf16 dense
# peak when the GPU is not recognised), GPU_CHECK_SIZES (default "1b 7b").
set -euo pipefail

if [ $# -lt 1 ]; then
  sed -n '2,19p' "$0" >&2
  exit 2
fi
BIN=$(cd "$1" && pwd)
WORK=${2:-$(mktemp -d /tmp/gpu-check.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
export DAG_PYTHON=${DAG_PYTHON:-python3}
export DAG_HF_CACHE="$WORK/worker-cache"
PY=$DAG_PYTHON
SIZES=${GPU_CHECK_SIZES:-1b 7b}
START=$(date +%s)
BUDGET=450 # seconds: the whole check must end within 8 minutes

elapsed() { echo $(($(date +%s) - START)); }
say() { echo "gpu-check [$(elapsed)s]: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
drive() { timeout 300 "$BIN/gpucheck" "$@"; }

for f in dag-plugin-hf gpucheck; do
  [ -x "$BIN/$f" ] || fail "$BIN/$f missing (build it first, see the header)"
done
"$PY" - <<'PY' || fail "python needs torch with CUDA, transformers and peft"
import torch, transformers, peft, tokenizers
assert torch.cuda.is_available(), "no CUDA device"
print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__,
      "gpu", torch.cuda.get_device_name(0))
PY
drive describe -plugin "$BIN/dag-plugin-hf" -log "$WORK/describe.log" >"$WORK/describe.json" ||
  fail "plugin not ready: $(cat "$WORK/describe.json" 2>/dev/null)"

say "building models and data in $WORK"
"$PY" - "$WORK" <<'PY'
import json, os, random, sys
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

work = sys.argv[1]
rng = random.Random(0)
words = ["alpha", "beta", "gamma", "delta", "sky", "blue", "red", "green", "sea", "the", "is", "what",
         "colour", "answer", "question", "of", "a", "and", "to", "in"]

def sentence(n):
    return " ".join(rng.choice(words) for _ in range(n))

corpus = [sentence(12) for _ in range(2000)] + ["Question: what is %d+%d?\n\nAnswer: %d." % (i, j, i + j)
                                                for i in range(30) for j in range(30)]
tk = Tokenizer(models.BPE())
tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tk.decoder = decoders.ByteLevel()
tk.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=512, special_tokens=["<s>", "</s>", "<pad>"],
                                                   initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
tokdir = os.path.join(work, "tokenizer")
tok.save_pretrained(tokdir)

def llama(name, dtype, **shape):
    folder = os.path.join(work, name)
    cfg = LlamaConfig(bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id, **shape)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).to(dtype)
    model.save_pretrained(folder, safe_serialization=True)
    tok.save_pretrained(folder)

llama("tiny", torch.float32, vocab_size=len(tok), hidden_size=64, intermediate_size=176, num_hidden_layers=2,
      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)

def write(name, records):
    os.makedirs(os.path.join(work, name), exist_ok=True)
    with open(os.path.join(work, name, "data.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")

write("sft", [{"prompt": "what is %d+%d?" % (i, j), "response": "%d." % (i + j)} for i in range(8) for j in range(8)])
write("dpo", [{"prompt": "what colour is the %s?" % w, "chosen": " blue.", "rejected": " red, green and alpha."}
              for w in words])
write("perf", [{"prompt": sentence(20), "response": sentence(1500)} for _ in range(200)])
reqs = []
for i in range(40):
    reqs.append({"context": "Question: what is %d+%d?\n\nAnswer:" % (i % 8, i // 8), "continuation": " %d." % (i % 13)})
for i in range(20):
    reqs.append({"context": "", "continuation": sentence(8 + i), "bos_context": True})
reqs.append({"context": "the sky is ", "continuation": "blue"})  # trailing space moves
reqs.append({"context": "", "continuation": "no context at all"})
with open(os.path.join(work, "requests.jsonl"), "w") as f:
    for r in reqs:
        f.write(json.dumps(r) + "\n")
with open(os.path.join(work, "perf-requests.jsonl"), "w") as f:
    for i in range(2000):
        f.write(json.dumps({"context": sentence(150), "continuation": " " + sentence(8)}) + "\n")
PY

TINY='"dtype": "float32", "max_length": 128, "log_every": 1, "lora": {"rank": 8, "alpha": 16, "dropout": 0, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}'
say "sft on the tiny model"
drive train -plugin "$BIN/dag-plugin-hf" -kind sft -model "$WORK/tiny" -data "$WORK/sft" -out "$WORK/tiny-sft" \
  -params "{\"steps\": 40, \"batch_size\": 8, \"learning_rate\": 0.005, $TINY}" >"$WORK/sft.json" || fail "sft"
say "dpo on the sft output"
drive train -plugin "$BIN/dag-plugin-hf" -kind dpo -model "$WORK/tiny-sft" -data "$WORK/dpo" -out "$WORK/tiny-dpo" \
  -params "{\"steps\": 30, \"batch_size\": 8, \"learning_rate\": 0.005, \"beta\": 0.5, $TINY}" >"$WORK/dpo.json" || fail "dpo"
for m in tiny-sft tiny-dpo; do
  say "score with $m"
  drive score -plugin "$BIN/dag-plugin-hf" -model "$WORK/$m" -requests "$WORK/requests.jsonl" \
    -out "$WORK/$m-scores.jsonl" -params '{"dtype": "float32", "score_batch_size": 16}' >"$WORK/$m-score.json" || fail "score $m"
done

say "checking losses and scores against transformers"
"$PY" - "$WORK" <<'PY' || fail "correctness"
import json, os, sys
import torch, peft
from transformers import AutoModelForCausalLM, AutoTokenizer

work = sys.argv[1]
sft, dpo = (json.load(open(os.path.join(work, n + ".json"))) for n in ("sft", "dpo"))
mean = lambda xs: sum(xs) / len(xs)
ok = True
if not mean(sft["losses"][-5:]) < 0.9 * mean(sft["losses"][:5]):
    print("sft loss did not fall:", sft["losses"]); ok = False
if not (abs(dpo["losses"][0] - 0.6931) < 0.01 and mean(dpo["losses"][-5:]) < 0.6):
    print("dpo loss did not fall from ln 2:", dpo["losses"]); ok = False
print("sft loss %.4f -> %.4f; dpo loss %.4f -> %.4f, final %s" % (
    sft["losses"][0], sft["losses"][-1], dpo["losses"][0], dpo["losses"][-1], dpo["metrics"]))

def chain(folder):
    out = []
    while os.path.isfile(os.path.join(folder, "adapter_config.json")):
        out.insert(0, folder)
        folder = os.path.join(folder, "parent")
    return folder, out

reqs = [json.loads(l) for l in open(os.path.join(work, "requests.jsonl"))]
torch.backends.cuda.matmul.allow_tf32 = False
for name in ("tiny-sft", "tiny-dpo"):
    base, adapters = chain(os.path.join(work, name))
    model = AutoModelForCausalLM.from_pretrained(base, torch_dtype=torch.float32).cuda()
    for a in adapters:
        model = peft.PeftModel.from_pretrained(model, a).merge_and_unload()
    model.eval()
    tok = AutoTokenizer.from_pretrained(base)
    enc = lambda s: tok(s, add_special_tokens=False)["input_ids"]
    got = [json.loads(l) for l in open(os.path.join(work, name + "-scores.jsonl"))]
    worst, greedy_diff = 0.0, 0
    for q, g in zip(reqs, got):
        ctx, cont = q["context"], q["continuation"]
        if q.get("bos_context"):
            c, x = [tok.bos_token_id], enc(cont)
        else:
            n = len(ctx) - len(ctx.rstrip())
            if n:
                ctx, cont = ctx[:-n], ctx[-n:] + cont
            if ctx:
                c = enc(ctx)
                x = enc(ctx + cont)[len(c):]
            else:
                c, x = [tok.eos_token_id], enc(cont)
        ids = torch.tensor([c + x]).cuda()
        with torch.no_grad():
            lp = model(ids).logits[0].double().log_softmax(-1)
        pos = torch.arange(len(c) - 1, len(c) + len(x) - 1).cuda()
        tgt = torch.tensor(x).cuda()
        ll = lp[pos, tgt].sum().item()
        greedy = bool((lp[pos].argmax(-1) == tgt).all())
        worst = max(worst, abs(ll - g["logprob"]))
        greedy_diff += greedy != g["greedy"]
        if g["tokens"] != len(x):
            print(name, "token count", g["tokens"], "want", len(x)); ok = False
    print("%s: %d requests, largest |logprob difference| %.2e, greedy flags differing %d" % (name, len(got), worst, greedy_diff))
    if worst > 1e-4:
        ok = False
sys.exit(0 if ok else 1)
PY

say "performance"
echo '{}' >"$WORK/perf.json"
for size in $SIZES; do
  case $size in
    1b) shape='vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=4096'; micro=8; left=300 ;;
    7b) shape='vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=32, max_position_embeddings=4096'; micro=4; left=200 ;;
    *) fail "unknown size $size" ;;
  esac
  if [ $((BUDGET - $(elapsed))) -lt $left ]; then
    say "skipping $size: $(elapsed)s used of ${BUDGET}s"
    continue
  fi
  say "random Llama $size"
  "$PY" - "$WORK" "$size" "$shape" <<'PY'
import os, sys
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
work, size, shape = sys.argv[1:4]
tok = AutoTokenizer.from_pretrained(os.path.join(work, "tokenizer"))
cfg = eval("LlamaConfig(%s)" % shape)
cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id = tok.bos_token_id, tok.eos_token_id, tok.pad_token_id
torch.manual_seed(0)
if hasattr(torch, "set_default_device"):  # torch 2: initialise on the GPU, in seconds
    torch.set_default_device("cuda")
model = LlamaForCausalLM._from_config(cfg, torch_dtype=torch.bfloat16)
model.save_pretrained(os.path.join(work, "llama-" + size), safe_serialization=True)
tok.save_pretrained(os.path.join(work, "llama-" + size))
PY
  say "lora sft, $size"
  drive train -plugin "$BIN/dag-plugin-hf" -kind sft -model "$WORK/llama-$size" -data "$WORK/perf" -out "$WORK/perf-$size" -warmup 3 \
    -params "{\"steps\": 15, \"batch_size\": 8, \"micro_batch_size\": $micro, \"max_length\": 2048, \"packing\": true, \"log_every\": 1, \"learning_rate\": 0.0001, \"lora\": {\"rank\": 8, \"alpha\": 16, \"target_modules\": [\"q_proj\", \"k_proj\", \"v_proj\", \"o_proj\"]}}" \
    >"$WORK/perf-$size-sft.json" || fail "perf sft $size"
  say "score, $size"
  drive score -plugin "$BIN/dag-plugin-hf" -model "$WORK/llama-$size" -requests "$WORK/perf-requests.jsonl" \
    -out "$WORK/perf-$size-scores.jsonl" -params '{"score_batch_size": 64}' >"$WORK/perf-$size-score.json" || fail "perf score $size"
  rm -rf "$WORK/llama-$size" "$WORK/perf-$size"
done

"$PY" - "$WORK" <<'PY'
import json, os, re, sys
import torch
work = sys.argv[1]
name = torch.cuda.get_device_name(0)
peaks = {"H100": 989.4, "H200": 989.4, "H800": 989.4, "A100": 312.0, "L40S": 362.0, "A10": 125.0, "L4": 121.0}
peak = float(os.environ.get("GPU_PEAK_TFLOPS") or next((v for k, v in peaks.items() if k in name), 0))
shapes = {"1b": dict(d=2048, L=22, ff=5632, kv=4, h=32), "7b": dict(d=4096, L=32, ff=11008, kv=32, h=32)}
report = {"gpu": name, "peak_bf16_tflops": peak, "checks": "passed", "runs": {}}
for size, s in shapes.items():
    p = os.path.join(work, "perf-%s-sft.json" % size)
    if not os.path.exists(p):
        continue
    sft = json.load(open(p))
    score = json.load(open(os.path.join(work, "perf-%s-score.json" % size)))
    d, L, ff, kvd = s["d"], s["L"], s["ff"], s["d"] * s["kv"] // s["h"]
    n = L * (2 * d * d + 2 * d * kvd + 3 * d * ff) + 32000 * d  # matmul weights incl. lm_head
    T = 2048
    tokens_per_s = sft["steady_steps_per_second"] * 8 * T
    attn = 12 * L * d * T
    run = {"params_matmul": n, "sft_tokens_per_second": tokens_per_s,
           "sft_worker_tokens_per_second": sft["worker_tokens_per_second"], "gpu_memory_gib": sft["gpu_memory_gib"],
           "score_tokens_per_second": score.get("tokens_per_second"), "score_requests_per_second": score["count"] / score["seconds"]}
    if peak:
        run["mfu_6n"] = tokens_per_s * (6 * n + attn) / (peak * 1e12)
        run["mfu_lora_work"] = tokens_per_s * (4 * n + attn) / (peak * 1e12)
    report["runs"][size] = run
json.dump(report, open(os.path.join(work, "report.json"), "w"), indent=2)
print(json.dumps(report, indent=2))
PY
say "done in $(elapsed)s; report: $WORK/report.json"
