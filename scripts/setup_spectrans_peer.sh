#!/usr/bin/env bash
# Set up the speed peer spectrans 0.1.0 (PyTorch) in its own virtual environment OUTSIDE this
# repository (never a project dependency), as the reference notes describe (A.1, A.9):
#   a Python 3.11 venv, the local torch CPU wheel, spectrans with --ignore-requires-python --no-deps
#   plus its dependencies, and its core/types.py PEP 695 `type X = ...` lines rewritten as plain
#   assignments (3.12+ syntax; the only change, made in the venv's installed copy).
# Usage: scripts/setup_spectrans_peer.sh [VENV_DIR]   (default: ~/.cache/wavspa-peer/spectrans-venv)
# Then: python -m lra.bench --suite peer --peer-python VENV_DIR/bin/python
set -euo pipefail
VENV="${1:-$HOME/.cache/wavspa-peer/spectrans-venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip"
$PIP install --quiet "torch==2.13.0"  # the local CPU wheel (pip's find-links), else PyPI's
$PIP install --quiet "numpy>=2" "scipy>=1.16.1" pyyaml einops "PyWavelets>=1.6" "pydantic>=2.11"
$PIP install --quiet --no-deps --ignore-requires-python "spectrans==0.1.0"
TYPES="$("$VENV/bin/python" - <<'PY'
import importlib.util, pathlib
spec = importlib.util.find_spec("spectrans")
print(pathlib.Path(spec.origin).parent / "core" / "types.py")
PY
)"
# `type Name = expr` (PEP 695, Python >= 3.12) -> `Name = expr`; idempotent.
"$VENV/bin/python" - "$TYPES" <<'PY'
import pathlib, re, sys
path = pathlib.Path(sys.argv[1])
text = path.read_text()
new = re.sub(r"^type\s+(\w+)\s*=", r"\1 =", text, flags=re.M)
if new != text:
    path.write_text(new)
PY
"$VENV/bin/python" -c "import spectrans, torch; from spectrans.models import WaveletTransformer; print('spectrans', spectrans.__version__ if hasattr(spectrans, '__version__') else '0.1.0', 'torch', torch.__version__)"
echo "$VENV/bin/python"
