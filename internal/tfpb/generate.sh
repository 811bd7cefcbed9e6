#!/usr/bin/env bash
# Regenerates the .pb.go files from graph.proto, checkpoint.proto and
# meta_graph.proto with protoc and protoc-gen-go.
#
# Usage: generate.sh [OUTPUT_DIR]
#
# OUTPUT_DIR defaults to this script's directory (where the committed
# .pb.go files live); generate_test.go passes a temporary directory to check
# that the committed files are exactly what this script produces.
#
# Nothing is installed. The committed files were generated with protoc 3.21.12
# (Debian's protobuf-compiler) and protoc-gen-go v1.36.12, the protobuf-go
# version in go.mod; other versions change at least the version header.
# protoc-gen-go is looked up on PATH and then in "$(go env GOPATH)/bin".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here}"

if ! command -v protoc >/dev/null 2>&1; then
	echo "generate.sh: protoc not found on PATH; install it (Debian/Ubuntu: apt-get install protobuf-compiler)" >&2
	exit 1
fi
if ! command -v protoc-gen-go >/dev/null 2>&1; then
	if command -v go >/dev/null 2>&1; then
		gobin="$(go env GOPATH)/bin"
		if [ -x "$gobin/protoc-gen-go" ]; then
			PATH="$gobin:$PATH"
		fi
	fi
fi
if ! command -v protoc-gen-go >/dev/null 2>&1; then
	echo "generate.sh: protoc-gen-go not found on PATH or in \$(go env GOPATH)/bin; install it with: go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12" >&2
	exit 1
fi
if [ ! -d "$out" ]; then
	echo "generate.sh: output directory $out does not exist" >&2
	exit 1
fi

cd "$here"
protoc --proto_path=. --go_out="$out" --go_opt=paths=source_relative graph.proto checkpoint.proto meta_graph.proto
