#!/usr/bin/env bash
# The llama.cpp acceptance check of the GGUF export (README.md). Installs node-llama-cpp with its
# prebuilt CPU binaries into a temporary folder (never the app's package.json), then runs check.ts.
# Usage: scripts/llama-cpp-check/run.sh [--keep] [--json <file>] [--only logits|tokenizers]
# Environment: LLAMA_DIR=<folder> reuses an existing install (nothing is downloaded then).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
keep=0
args=()
for a in "$@"; do
  if [ "$a" = "--keep" ]; then keep=1; else args+=("$a"); fi
done
if [ -n "${LLAMA_DIR:-}" ]; then
  dir="$LLAMA_DIR"
else
  dir="$(mktemp -d "${TMPDIR:-/tmp}/llama-cpp-check-XXXXXX")"
  if [ "$keep" = 0 ]; then trap 'rm -rf "$dir"' EXIT; else echo "node-llama-cpp stays in $dir (LLAMA_DIR=$dir to reuse it)"; fi
  echo "installing node-llama-cpp into $dir (about 85 MB; no GPU packages)"
  (cd "$dir" && npm init -y >/dev/null && npm install --omit=optional --no-audit --no-fund node-llama-cpp @node-llama-cpp/linux-x64 >/dev/null)
fi
cd "$repo"
node --import tsx --import ./scripts/raw-import.mjs scripts/llama-cpp-check/check.ts --llama-dir "$dir" "${args[@]}"
