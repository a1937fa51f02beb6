"""Benchmarks (``python -m lra.bench``), one module per suite.

* :mod:`.cli` - the command: variants side by side (:mod:`.variants`) or one suite
* :mod:`.measure` - interleaved rounds, medians, the load other processes put on the cores
* :mod:`.models` - a config variant's model, state, random batch, compiled steps, FLOPs, peak memory
* :mod:`.report` - each suite's section of ``results/bench_<host>.md`` and rows of the ``.csv``
* suites: :mod:`.table8`, :mod:`.scaling`, :mod:`.transforms`, :mod:`.kernels`, :mod:`.peer`,
  :mod:`.efficiency`, :mod:`.flops`
"""

from lra.bench.cli import main

__all__ = ["main"]
