#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh needs on a GPU machine that has no Go
# toolchain: dag, dag-plugin-hf and gpucheck for linux/amd64, without cgo,
# without symbol tables and DWARF (-s -w: tracebacks keep their function
# names), xz-compressed (the check unpacks them with Python's lzma module).
# Compressing dag takes about two minutes.
#
#   usage: scripts/gpu-bundle.sh [OUT_DIR]     (default gpubin)
#
# OUT_DIR must stay out of git (gpubin/ is in .git/info/exclude). The whole
# bundle has to fit in what travels to the device with the working tree
# (64 MiB); the script prints the sizes and fails past 60 MiB.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT=${1:-gpubin}
LIMIT=$((60 << 20))
mkdir -p "$OUT"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

CGO_ENABLED=0 GOOS=linux GOARCH=amd64 GOEXPERIMENT=simd \
  go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$TMP/" ./cmd/dag ./cmd/dag-plugin-hf ./scripts/gpucheck
total=0
for name in dag dag-plugin-hf gpucheck; do
  xz -9e -T0 -c "$TMP/$name" >"$OUT/$name.xz.tmp"
  mv "$OUT/$name.xz.tmp" "$OUT/$name.xz"
  rm -f "$OUT/$name" # a plain copy would be carried too
  size=$(stat -c %s "$OUT/$name.xz")
  total=$((total + size))
  printf '%-14s %10d bytes, %10d compressed\n' "$name" "$(stat -c %s "$TMP/$name")" "$size"
done
printf '%-14s %10s        %10d compressed (%d MiB)\n' total "" "$total" $((total >> 20))
if [ "$total" -gt "$LIMIT" ]; then
  echo "gpu-bundle: $OUT is over $((LIMIT >> 20)) MiB" >&2
  exit 1
fi
