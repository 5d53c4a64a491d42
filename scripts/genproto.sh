#!/usr/bin/env bash
# Regenerates the Go code of the plugin protocol (plugins/proto) from its
# .proto. The generated files are committed; CI does not run protoc.
#
# Needs protoc (apt-get install protobuf-compiler) and the Go generators:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$(go env GOPATH)/bin:$PATH"
for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
	command -v "$tool" >/dev/null || { echo "genproto: $tool not found" >&2; exit 1; }
done
protoc \
	--proto_path=plugins/proto \
	--go_out=plugins/proto --go_opt=paths=source_relative \
	--go-grpc_out=plugins/proto --go-grpc_opt=paths=source_relative \
	plugins/proto/plugin.proto
gofmt -l plugins/proto
