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
import sys

from absl import app, flags
from ml_collections import config_flags

from lra.cli import fail
from wavspa_flax.errors import ConfigError, UserError

FLAGS = flags.FLAGS


class _TaskConfigFile(flags.ArgumentParser):
    """``--config=configs/<task>.py[:<variant>]`` read by :func:`lra.config.load_config`, so the file runs
    once per command (``main`` resolves the overrides from the same loaded module)."""

    def parse(self, spec: str):
        from lra.config import load_config

        return load_config(spec)

    def flag_type(self) -> str:
        return "config file"


# New attributes are accepted here so that an unknown key reaches lra.config.update, whose error names
# the whole dotted key and its close matches.
config_flags.DEFINE_config_file(
    "config", None, "Task config file and variant: configs/<task>.py:<attention>[,<space>]",
    lock_config=False, accept_new_attributes=True)
FLAGS["config"].parser = _TaskConfigFile()
flags.DEFINE_string("workdir", None, "Directory (or URI) for checkpoints, metrics and summary.json")
flags.DEFINE_bool("multihost", False, "Call jax.distributed.initialize() first (TPU pods, several processes); "
                  "without the three flags below it auto-detects the cluster (TPU VMs, SLURM)")
flags.DEFINE_string("coordinator_address", None, "HOST:PORT of process 0 (multihost)")
flags.DEFINE_integer("num_processes", None, "number of processes (multihost)")
flags.DEFINE_integer("process_id", None, "this process's index, 0..num_processes-1 (multihost)")


def _user_error(error: BaseException) -> UserError | None:
    """The UserError behind a flag-parsing error (absl re-raises a parser's ValueError as its own)."""
    while error is not None:
        if isinstance(error, UserError):
            return error
        error = error.__cause__ or error.__context__
    return None


def parse_flags(argv: list[str]) -> list[str]:
    """absl's flag parsing, with config and flag mistakes reported in one line."""
    try:
        return FLAGS(argv)
    except Exception as error:  # absl's flags.Error; config_flags' AttributeError/KeyError/... for overrides
        fail(str(_user_error(error) or str(error).strip().splitlines()[-1]), error)


def main(argv: list[str]) -> None:
    del argv
    import lra.train
    from lra.config import load_config

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
                             config_flags.get_override_values(FLAGS["config"]), source="the command line")
        result = lra.train.train_and_evaluate(config, FLAGS.workdir)
    except lra.train.RunFinishedElsewhere as finished:
        print(finished)
        return
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
