#!/usr/bin/env bash
# Re-resolve the hash-pinned locks from pyproject.toml (run after changing a dependency):
#   bash requirements/refresh.sh
# ci.txt: runtime + the test/lint toolchain (used by .ci/run); runtime.txt: runtime only
# (deploy/Dockerfile). pip-tools resolves with pip itself, so the locks hold exactly what
# `pip install --require-hashes` can find through this machine's package index.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m piptools --version >/dev/null 2>&1 || python3 -m pip install --quiet pip-tools
compile() {
  CUSTOM_COMPILE_COMMAND="bash requirements/refresh.sh" python3 -m piptools compile --quiet --generate-hashes \
    --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --newline LF "$@" pyproject.toml
}
compile --extra test -o requirements/ci.txt
compile -o requirements/runtime.txt
