"""``python -m lra.analyze``: what a trained run learned, as tables and plots (:mod:`lra.analysis`).

    python -m lra.analyze --workdir=RUN --out=DIR [--examples=16] [--min_length=0] [--state=best]
    python -m lra.analyze --workdir='runs/pe/*/*' --out=DIR --compare=results/x --group_by=model.position

The report's sections are described in :mod:`lra.analysis.report`, the options in
:mod:`lra.analysis.cli`.
"""

from lra.analysis.cli import main
from lra.cli import run_main

__all__ = ["main"]

if __name__ == "__main__":
    run_main(main)
