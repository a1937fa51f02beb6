"""``python -m lra.bench`` (:mod:`lra.bench.cli`)."""

from lra.bench.cli import main
from lra.cli import run_main

run_main(lambda: main() and 0)  # a mistake (unknown variant or task) ends in one error: line
