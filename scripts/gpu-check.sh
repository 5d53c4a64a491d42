#!/usr/bin/env bash
# GPU check of the hf backend (docs/gpu.md), for a machine with a CUDA GPU,
# PyTorch, transformers and peft, but no Go toolchain and no network.
#
#   usage: scripts/gpu-check.sh BIN_DIR OUT_DIR [WORK_DIR]
#
# BIN_DIR holds dag, dag-plugin-hf and gpucheck, plain or xz-compressed
# (NAME.xz), as scripts/gpu-bundle.sh builds them. Three stages run back to
# back; each writes its report to OUT_DIR as soon as it ends, so a run cut
# short still returns what was done:
#
#   env.json     Python, package versions, the GPU
#   stage1.json  correctness: tiny random Llama, float32, deterministic
#                kernels; losses fall, Score equals transformers, resume,
#                cancel, the adapter loads with peft
#   stage2.json  throughput: bf16 matmul rate, LoRA SFT on 1.1B and 7B
#                Llama shapes (sweep, MFU, time per phase), Score at batch fill
#   stage3.json  end to end: dag submit --wait of a study with backend hf,
#                then the same submit again, fully cached
#   log.txt      the tail of the whole log
#
# The whole check stays within GPU_CHECK_BUDGET seconds (default 510);
# stage 1 ends by a third of it, stage 2 by three quarters.
# Environment: DAG_PYTHON (default python3), GPU_PEAK_TFLOPS (bf16 dense
# peak when the GPU is not recognised), GPU_CHECK_STAGES (default "1 2 3"),
# GPU_CHECK_TOY=1 (a dry run on the CPU with the worker tests' toy model).
set -uo pipefail

if [ $# -lt 2 ]; then
  sed -n '2,29p' "$0" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BIN_IN=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
WORK=${3:-$(mktemp -d /tmp/gpu-check.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
export DAG_PYTHON=${DAG_PYTHON:-python3}
export DAG_HF_CACHE="$WORK/hf-cache"
export PYTHONDONTWRITEBYTECODE=1
PY=$DAG_PYTHON
BUDGET=${GPU_CHECK_BUDGET:-510}
STAGES=${GPU_CHECK_STAGES:-1 2 3}
TOY=()
[ "${GPU_CHECK_TOY:-0}" = 1 ] && TOY=(--toy)
START=$(date +%s)
export GPU_CHECK_START=$START
LOG="$WORK/log.txt"
exec > >(tee -a "$LOG") 2>&1

say() { echo "gpu-check [$(($(date +%s) - START))s]: $*"; }
save_log() { tail -c 400000 "$LOG" >"$OUT/log.txt" 2>/dev/null || true; }

# unpack BIN_IN into $WORK/bin: NAME.xz is decompressed (python's lzma
# module, always there), NAME copied.
unpack() {
  "$PY" - "$BIN_IN" "$WORK/bin" <<'PY'
import lzma, os, shutil, sys
src, dst = sys.argv[1:3]
os.makedirs(dst, exist_ok=True)
for name in ("dag", "dag-plugin-hf", "gpucheck"):
    out = os.path.join(dst, name)
    if os.path.exists(os.path.join(src, name + ".xz")):
        with lzma.open(os.path.join(src, name + ".xz")) as f, open(out, "wb") as g:
            shutil.copyfileobj(f, g, 1 << 20)
    elif os.path.exists(os.path.join(src, name)):
        shutil.copyfile(os.path.join(src, name), out)
    else:
        sys.exit("%s: no %s or %s.xz" % (src, name, name))
    os.chmod(out, 0o755)
    print("unpacked", name, os.path.getsize(out), "bytes")
PY
}

# stage N END: runs scripts/gpu-check/stageN.py until Unix time END (plus a
# grace period before it is interrupted); its failure is recorded, not fatal.
stage() {
  local n=$1 end=$2 extra=()
  [ "$n" = 3 ] && [ -d "$WORK/s1/tiny" ] && extra=(--model "$WORK/s1/tiny")
  local left=$((end - $(date +%s)))
  if [ "$left" -lt 20 ]; then
    say "stage $n skipped: ${left}s left"
    echo "{\"stage\": $n, \"status\": \"skipped\", \"reason\": \"time\"}" >"$OUT/stage$n.json"
    return
  fi
  say "stage $n: ${left}s"
  timeout --signal=INT --kill-after=20 $((left + 20)) \
    "$PY" "$HERE/gpu-check/stage$n.py" --bin "$WORK/bin" --out "$OUT" --work "$WORK/s$n" --deadline "$end" \
    "${TOY[@]}" "${extra[@]}"
  local rc=$?
  say "stage $n ended (exit status $rc)"
  if [ ! -s "$OUT/stage$n.json" ]; then
    echo "{\"stage\": $n, \"status\": \"crashed\", \"exit_status\": $rc}" >"$OUT/stage$n.json"
  fi
  save_log
}

say "work folder $WORK, output $OUT, budget ${BUDGET}s"
unpack || { say "FAIL: cannot unpack the binaries"; save_log; exit 1; }
"$PY" "$HERE/gpu-check/env.py" "$OUT/env.json" || say "env.py failed"
save_log
for n in $STAGES; do
  case $n in
    1) stage 1 $((START + BUDGET / 3)) ;;
    2) stage 2 $((START + BUDGET * 3 / 4)) ;;
    3) stage 3 $((START + BUDGET)) ;;
    *) say "unknown stage $n" ;;
  esac
done
"$PY" - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
for n in (1, 2, 3):
    p = os.path.join(out, "stage%d.json" % n)
    if not os.path.exists(p):
        continue
    d = json.load(open(p))
    checks = d.get("checks", {})
    bad = [k for k, v in checks.items() if v.get("status") == "failed"]
    print("stage %d (%s): %s; %d passed, %d failed %s, %d skipped" % (
        n, d.get("stage"), d.get("status"), d.get("passed", 0), len(bad), bad, d.get("skipped", 0)))
    for k, v in sorted(d.get("targets", {}).items()):
        print("  target %s: %s" % (k, v))
PY
say "done; reports in $OUT"
save_log
