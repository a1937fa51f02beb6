"""``python -m lra.bench`` (:mod:`lra.bench.cli`)."""

from lra.bench.cli import main

main()
