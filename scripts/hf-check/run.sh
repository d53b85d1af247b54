#!/usr/bin/env bash
# The Hugging Face check of the studio's exports (README.md): transformers and peft load the PEFT
# adapter, the merged bundles and a full finetune, and their logits must match the CPU reference.
# Installs torch (CPU), transformers, peft and safetensors into a temporary venv (never the app's
# dependencies), then runs check.ts with that Python.
# Usage: scripts/hf-check/run.sh [--keep] [--json <file>] [--full <kinds>] [--work <dir>]
# Environment: HF_ENV=<venv> reuses an existing venv (nothing is installed then).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
keep=0
args=()
for a in "$@"; do
  if [ "$a" = "--keep" ]; then keep=1; else args+=("$a"); fi
done
if [ -n "${HF_ENV:-}" ]; then
  venv="$HF_ENV"
else
  venv="$(mktemp -d "${TMPDIR:-/tmp}/hf-check-venv-XXXXXX")"
  if [ "$keep" = 0 ]; then trap 'rm -rf "$venv"' EXIT; else echo "the venv stays in $venv (HF_ENV=$venv to reuse it)"; fi
  echo "installing torch (CPU), transformers, peft and safetensors into $venv"
  python3 -m venv "$venv"
  # Plain pip: the machine's pip configuration says which index to use. The CPU wheel of torch is
  # taken when the index has one (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu on a
  # machine that reaches PyPI avoids the CUDA wheels). One retry, not pip's five with growing
  # pauses: where a local index stands beside an unreachable PyPI, five cost minutes per package.
  PIP_RETRIES="${PIP_RETRIES:-1}" "$venv/bin/pip" install --quiet --disable-pip-version-check torch transformers peft safetensors
fi
if [ ! -x "$venv/bin/python" ]; then echo "no Python at $venv/bin/python: HF_ENV must be a venv" >&2; exit 2; fi
cd "$repo"
node --import tsx --import ./scripts/raw-import.mjs scripts/hf-check/check.ts --python "$venv/bin/python" ${args[@]+"${args[@]}"}
