#!/bin/sh
# Training throughput of tinylm's default size: GoMLX (pure-Go backend) vs
# the same architecture in PyTorch on the CPU, measured back to back in one
# run. Usage (from the repository root): bench/tinylm.sh [steps]
#
# Needs /usr/bin/python3 with torch (Debian: apt-get install python3-torch).
# Debian's torch calls whatever libblas.so.3 the system selects, by default
# the slow reference BLAS; when OpenBLAS is installed (apt-get install
# libopenblas0-pthread) PyTorch is also measured with it, through
# LD_LIBRARY_PATH, leaving the system's choice alone.
set -eu
steps=${1:-20}
threads=$(nproc)
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
export GOEXPERIMENT=simd

go_out=$(TINYLM_BENCH_STEPS=$steps go test -run '^$' -bench '^BenchmarkTrainTokens$' -benchtime 1x ./plugins/tinylm/)
echo "$go_out" | grep '^BenchmarkTrainTokens'
go_tps=$(echo "$go_out" | awk '/^BenchmarkTrainTokens/ { for (i = 1; i < NF; i++) if ($(i+1) == "tokens/s") print $i }')

torch_tps() { # $@: environment settings for the PyTorch run
	out=$(env "$@" /usr/bin/python3 bench/tinylm_torch.py --steps "$steps" --threads "$threads")
	echo "$out" >&2
	echo "$out" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_s"])'
}
ratio() { # $1: label, $2: PyTorch tokens/s
	awk -v g="$go_tps" -v p="$2" -v n="$threads" -v l="$1" 'BEGIN {
		printf "GoMLX %.0f tokens/s vs PyTorch (%d threads, %s) %.0f tokens/s: ratio %.2fx\n", g, n, l, p, g / p
	}'
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
blas=$(/usr/bin/python3 -c 'import os; print(os.path.basename(os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")))')
ratio "stock: system BLAS $blas, default OpenMP" "$(torch_tps LD_LIBRARY_PATH=)"
if [ -e "$openblas/libblas.so.3" ]; then
	# OpenBLAS single-threaded inside PyTorch's OpenMP threads, which
	# sleep rather than spin when idle (spinning threads starve each other
	# on a busy 2-core machine).
	ratio "tuned: OpenBLAS, OMP_WAIT_POLICY=PASSIVE" \
		"$(torch_tps LD_LIBRARY_PATH=$openblas OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE)"
fi
