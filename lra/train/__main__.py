"""``python -m lra.train``: the training command (:mod:`lra.train.cli`)."""

from lra.train.cli import run

run()
