#!/usr/bin/env bash
# The independent equivalence check of every fingerprinted code block (tests/equivalence/README.md).
# .ci/run calls it as `bash tests/equivalence/run.sh`. It needs python3 (3.11), bash, gcc, objdump, node and openssl;
# its Python packages go into a venv at ${FOREWARN_EQUIVALENCE_VENV:-$HOME/.cache/forewarn-equivalence/venv}.
# VARIANTS_JSON=path checks that file instead of building and running the variants tool.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."

venv="${FOREWARN_EQUIVALENCE_VENV:-$HOME/.cache/forewarn-equivalence/venv}"
if [ ! -x "$venv/bin/python" ]; then
    echo "==> equivalence: creating $venv"
    python3 -m venv "$venv"
fi
echo "==> equivalence: pip install -r tests/equivalence/requirements.txt"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"

if [ -n "${VARIANTS_JSON:-}" ]; then
    variants="$VARIANTS_JSON"
else
    echo "==> equivalence: building the variants tool"
    cargo build -q -p forewarn-mark --example variants
    variants="$(mktemp)"
    trap 'rm -f "$variants"' EXIT
    "${CARGO_TARGET_DIR:-target}/debug/examples/variants" --copies 24 \
        crates/forewarn/demo/advisories/*.md crates/forewarn/demo/advisories/poc/* tests/equivalence/samples/* \
        > "$variants"
fi

echo "==> equivalence: self-test (good fixtures pass, bad fixtures are caught)"
"$venv/bin/python" "$here/check.py" --self-test
echo "==> equivalence: every variant against its original"
"$venv/bin/python" "$here/check.py" "$variants"
