#!/usr/bin/env bash
# Rebuild tests/gguf/fixtures/quant-vectors.json from llama.cpp's own reference quantizers.
# Needs gcc and llama.cpp's source: LLAMA_SRC=<llama.cpp checkout>, e.g. the one inside
# node-llama-cpp (git clone <install dir>/node_modules/node-llama-cpp/llama/gitRelease.bundle llama-src).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${LLAMA_SRC:?set LLAMA_SRC to a llama.cpp source folder}/ggml"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
gcc -O2 -c "$src/src/ggml-quants.c" -I "$src/include" -I "$src/src" -o "$build/quants.o"
gcc -O2 "$here/quantize-ref.c" "$here/stubs.c" "$build/quants.o" -I "$src/include" -I "$src/src" -lm -o "$here/quantize-ref"
node "$here/make-vectors.mjs"
rm -f "$here/quantize-ref"
