#!/bin/sh
# Training throughput of tinylm's default size: GoMLX (pure-Go backend) vs
# the same architecture in PyTorch on the CPU, measured in one run,
# interleaved over several rounds; it prints the median of each and their
# ratios. Usage (from the repository root): bench/tinylm.sh [steps] [rounds]
#
# Needs /usr/bin/python3 with torch (Debian: apt-get install python3-torch).
# Debian's torch calls whatever libblas.so.3 the system selects. PyTorch is
# measured with the system's choice and, when OpenBLAS is installed
# (libopenblas0-pthread, which apt installs with python3-torch unless
# recommends are off), with OpenBLAS as installed and as tuned, through
# LD_LIBRARY_PATH, leaving the system's choice alone.
set -eu
steps=${1:-20}
rounds=${2:-3}
threads=$(nproc)
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
export GOEXPERIMENT=simd

bin=$(mktemp -d)/tinylm.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
go test -c -o "$bin" ./plugins/tinylm/

go_tps() {
	TINYLM_BENCH_STEPS=$steps "$bin" -test.run '^$' -test.bench '^BenchmarkTrainTokens$' -test.benchtime 1x |
		awk '/^BenchmarkTrainTokens/ { for (i = 1; i < NF; i++) if ($(i+1) == "tokens/s") print $i }'
}
torch_tps() { # $@: environment settings for the PyTorch run
	env "$@" /usr/bin/python3 bench/tinylm_torch.py --steps "$steps" --threads "$threads" |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["tokens_per_s"])'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

blas=$(/usr/bin/python3 -c 'import os; print(os.path.basename(os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")))')
labels="system BLAS ($blas), default threads"
have_openblas=false
if [ -e "$openblas/libblas.so.3" ]; then
	have_openblas=true
fi

g="" s="" o="" t=""
for r in $(seq "$rounds"); do
	x=$(go_tps)
	if [ -z "$x" ]; then
		echo "tinylm.sh: BenchmarkTrainTokens printed no tokens/s" >&2
		exit 1
	fi
	g="$g $x"
	s="$s $(torch_tps LD_LIBRARY_PATH=)"
	if $have_openblas; then
		o="$o $(torch_tps LD_LIBRARY_PATH=$openblas)"
		# OpenBLAS single-threaded inside PyTorch's OpenMP threads, which
		# sleep rather than spin when idle: the fastest setting found.
		t="$t $(torch_tps LD_LIBRARY_PATH=$openblas OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE)"
	fi
	echo "round $r/$rounds: GoMLX$g | PyTorch system$s | OpenBLAS$o | OpenBLAS tuned$t" >&2
done

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of $steps steps, medians; PyTorch with $threads threads"
gm=$(echo "$g" | median)
report() { # $1: label, $2: the PyTorch runs
	p=$(echo "$2" | median)
	awk -v g="$gm" -v p="$p" -v l="$1" 'BEGIN { printf "GoMLX %.0f tokens/s vs PyTorch (%s) %.0f tokens/s: ratio %.2fx\n", g, l, p, g / p }'
}
report "$labels" "$s"
if $have_openblas; then
	report "OpenBLAS, default threads" "$o"
	report "OpenBLAS, OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE" "$t"
fi
