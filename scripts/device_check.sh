#!/usr/bin/env bash
# The first run on a machine with one NVIDIA GPU and nothing installed but this repository:
# installs the project with CUDA 12 JAX, then runs scripts/device_check.py (about 8 minutes),
# which writes results/bench_gpu.md. Arguments go to the script (e.g. --dry-run, --parts, --out).
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in
  *" --dry-run "*) ;;  # the CPU test of the script: use the installed JAX
  *) python -m pip install -q -e ".[cuda12]" ;;
esac
exec python scripts/device_check.py "$@"
