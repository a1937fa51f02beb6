"""The training command: flags, logging, and mistakes reported in one line.

    python -m lra.train --config=configs/<task>.py:<attention>[,<space>] --workdir=DIR \\
        [--config.scale=small] [--config.<key>=<value> ...]

The config is resolved by :func:`lra.config.load_config` (the file, its scale preset, then the
``--config.*`` overrides, which always win) and trained by :func:`lra.train.train_and_evaluate`.
A user's mistake (an unknown key or name, a bad value, missing data) ends the command with
``error: <what and how to fix it>`` and exit status 1; ``WAVSPA_TRACEBACK=1`` shows the traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys

from absl import app, flags
from ml_collections import config_flags

from lra.cli import fail
from wavspa_flax.errors import ConfigError, UserError

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    "config", None, "Task config file and variant: configs/<task>.py:<attention>[,<space>]")
flags.DEFINE_string("workdir", None, "Directory (or URI) for checkpoints, metrics and summary.json")
flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() first (TPU pods, several processes); "
                  "without the three flags below it auto-detects the cluster (TPU VMs, SLURM)")
flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (multihost)")
flags.DEFINE_integer("num_processes", None, "number of processes (multihost)")
flags.DEFINE_integer("process_id", None, "this process's index, 0..num_processes-1 (multihost)")


def _config_arguments(argv: list[str]) -> tuple[str | None, list[str]]:
    """The ``--config`` value and the keys of the ``--config.<key>=...`` overrides in ``argv``."""
    spec, keys = None, []
    for i, arg in enumerate(argv):
        match = re.match(r"^--?config(=(.*))?$", arg)
        if match:
            spec = match.group(2) if match.group(1) else (argv[i + 1] if i + 1 < len(argv) else None)
        match = re.match(r"^--?(?:no)?config\.([^=]+)", arg)
        if match:
            keys.append(match.group(1))
    return spec, keys


def _diagnose(argv: list[str]) -> str | None:
    """Why the config flags failed to parse, in one line (None if it is not a config problem)."""
    from lra.config import load_config, update

    spec, keys = _config_arguments(argv)
    if spec is None:
        return None
    try:
        config = load_config(spec)
        for key in keys:
            update(config, {key: _current(config, key)}, "the command line")
    except UserError as error:
        return str(error)
    return None


def _current(config, dotted: str):
    node = config
    for part in dotted.split(".")[:-1]:
        node = node.get(part) if hasattr(node, "get") else None
    leaf = dotted.split(".")[-1]
    if node is None or not hasattr(node, "get") or leaf not in node:
        return None  # `update` reports the unknown key
    return node[leaf]


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with config and flag mistakes reported in one line."""
    try:
        return FLAGS(argv)
    except Exception as error:  # absl's flags.Error; config_flags' AttributeError/KeyError/... for overrides
        fail(_diagnose(argv) or str(error).strip().splitlines()[-1], error)


def main(argv: list[str]) -> None:
    del argv
    from lra.config import load_config
    from lra.train import train_and_evaluate

    logging.getLogger().setLevel(logging.INFO)
    logging.getLogger("absl").setLevel(logging.WARNING)  # orbax logs every save/restore at INFO
    try:
        if FLAGS["config"].value is None:
            raise ConfigError("--config is required: --config=configs/<task>.py:<attention>[,<space>]")
        if FLAGS.workdir is None:
            raise ConfigError("--workdir is required (a directory for checkpoints, metrics and summary.json)")
        if FLAGS.multihost:
            initialize_distributed(FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id)
        config = load_config(config_flags.get_config_filename(FLAGS["config"]),
                             config_flags.get_override_values(FLAGS["config"]))
        result = train_and_evaluate(config, FLAGS.workdir)
    except UserError as error:
        fail(str(error), error)
    import jax

    if result.summary.get("signal"):  # preempted: checkpoint saved, rerun to resume
        sys.exit(128 + int(result.summary["signal"]))
    if jax.process_index() == 0:
        print(json.dumps({k: result.summary[k] for k in (
            "test_accuracy", "best_val_accuracy", "steps_completed", "wall_seconds", "param_count")}))


def initialize_distributed(coordinator_address: str | None, num_processes: int | None,
                           process_id: int | None) -> None:
    """``jax.distributed.initialize`` (auto-detected on TPU VMs / SLURM when the arguments are None);
    CPU processes exchange their collectives through gloo."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                               process_id=process_id)


def run() -> None:
    """Entry point of ``python -m lra.train``."""
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    run()
