# One place for how dag is built and tested; README and .ci/run call these.
GO  ?= go
BIN ?= bin

# The GoMLX backend is ~3x faster with Go's SIMD experiment. It changes the
# build-cache key of every package, so it is set once for everything here.
export GOEXPERIMENT ?= simd

# Reproducible binaries (docs/plugins.md, "Reproducible builds"): a plugin's
# sha256 enters every cache key of the nodes it runs, so the same commit
# must give the same bytes in any folder and on any machine with the same
# Go toolchain. -trimpath drops absolute source paths, -buildvcs=false the
# VCS revision and dirty flag, and CGO_ENABLED=0 the host's C toolchain.
# deploy/Dockerfile and the tests that build binaries use the same three.
export CGO_ENABLED = 0
export GOFLAGS = -trimpath -buildvcs=false

.PHONY: all build quickstart test bench fmt

all: build

## build: dag and its plugins into $(BIN)/ (dag finds plugins beside itself)
build:
	$(GO) build -o $(BIN)/ ./cmd/...

## quickstart: build, then run the quickstart study end to end
quickstart: build
	$(BIN)/dag plan examples/quickstart/study.yaml
	$(BIN)/dag submit examples/quickstart/study.yaml --wait

## test: formatting, vet, workflow determinism (workflowcheck), and the whole test suite
test:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0 ./workflows/...
	$(GO) test -count=1 -timeout 30m ./...

## bench: the benchmarks named in the issues (ratios are printed per benchmark)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

## bench-tinylm: tinylm training tokens/s, GoMLX vs PyTorch on the CPU (docs/tinylm.md)
.PHONY: bench-tinylm
bench-tinylm:
	bench/tinylm.sh
