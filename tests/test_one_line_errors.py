"""Mistakes that end in one ``error:`` line and exit status 1, never a traceback.

The commands run as real processes where the exit status and the printed output are the point
(``lra.train``, ``lra.bench``); the rest call the code a command runs and check the message.
"""

from __future__ import annotations

import errno
import gc
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lra import config as lra_config
from lra import reproduce, sweep
from lra.paths import workdir_path
from wavspa_flax.errors import ConfigError, UserError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def listops_config(tmp_path):
    from tests.train.conftest import smoke_config

    return lambda **overrides: smoke_config("listops", tmp_path, **overrides)


def _command(*args, cwd=REPO) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), JAX_PLATFORMS="cpu",
               JAX_COMPILATION_CACHE_DIR=str(REPO / ".pytest_cache" / "jax"))
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def _assert_one_line(done: subprocess.CompletedProcess, *fragments: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: "), last
    for fragment in fragments:
        assert fragment in last, last
    return last


def _files(tmp_path) -> dict[str, Path]:
    files = {"bad": tmp_path / "bad_config.py", "dict": tmp_path / "dict_config.py"}
    files["bad"].write_text("from lra import config\n\ndef get_config(arg=None):\n    return config.base_config(\n")
    files["dict"].write_text("def get_config(arg=None):\n    return {'task': 'listops'}\n")
    return files


@pytest.mark.slow
@pytest.mark.parametrize("case", ["workdir_is_a_file", "empty_workdir", "config_syntax_error", "config_not_a_dict"])
def test_lra_train_mistakes(tmp_path, case):
    files = _files(tmp_path)
    (tmp_path / "a_file").write_text("x")
    config, workdir, expected = str(REPO / "configs" / "quickstart.py"), str(tmp_path / "run"), ()
    if case == "workdir_is_a_file":
        workdir, expected = str(tmp_path / "a_file"), ("is an existing file",)
    elif case == "empty_workdir":
        workdir, expected = "", ("the workdir is empty",)
    elif case == "config_syntax_error":
        config, expected = str(files["bad"]), (f"{str(files['bad'])!r} line 4: SyntaxError",)
    else:
        config, expected = str(files["dict"]), ("get_config() returned dict",)
    done = _command("lra.train", f"--config={config}", "--config.scale=smoke", f"--workdir={workdir}",
                    cwd=tmp_path if case == "empty_workdir" else REPO)
    _assert_one_line(done, *expected)
    if case == "empty_workdir":
        assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "bad_config.py", "dict_config.py"]


@pytest.mark.slow
@pytest.mark.parametrize("args, fragment", [(["nosuchattention"], "unknown attention 'nosuchattention'"),
                                            (["transformer", "--task=nosuchtask"], "nosuchtask")])
def test_lra_bench_unknown_variant_or_task(args, fragment):
    _assert_one_line(_command("lra.bench", "--scale=smoke", "--steps=1", *args), fragment)


def test_config_and_sweep_files_with_mistakes_name_the_file_and_line(tmp_path):
    files = _files(tmp_path)
    with pytest.raises(ConfigError, match=r"bad_config.py' line 4: SyntaxError"):
        lra_config.load_config(str(files["bad"]))
    with pytest.raises(ConfigError, match=r"get_config\(\) returned dict; expected an ml_collections.ConfigDict"):
        lra_config.load_config(str(files["dict"]))
    sweep_file = tmp_path / "sweep.py"
    sweep_file.write_text("def get_sweep(arg=None):\n    return [\n")
    with pytest.raises(sweep.SweepError, match=r"sweep.py' line 2: SyntaxError"):
        sweep.load_entries(str(sweep_file))
    runtime = tmp_path / "runtime.py"
    runtime.write_text("X = 1\nY = undefined_name\n")
    with pytest.raises(ConfigError, match=r"runtime.py' line 2: NameError"):
        lra_config.load_config(str(runtime))


def test_empty_workdir_is_refused():
    for text in ("", "  "):
        with pytest.raises(ConfigError, match="the workdir is empty"):
            workdir_path(text)


def _exit_of(monkeypatch, module, *argv) -> SystemExit:
    monkeypatch.setattr(sys, "argv", [module.__name__, *argv])
    monkeypatch.delenv("WAVSPA_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as caught:
        module.run()
    return caught.value


@pytest.mark.parametrize("argv, fragment", [
    (["--table", "99", "--scale", "smoke"], "argument --table: invalid choice: '99'"),
    (["--table", "1", "--scale", "huge"], "argument --scale: invalid choice: 'huge'"),
    (["--table", "4", "--scale", "smoke", "--tasks", "nosuchtask"], "--tasks: 'nosuchtask' not in this table's grid"),
    (["--table", "4", "--scale", "smoke", "--attentions", "bogus"], "--attentions: 'bogus' not in this table's grid"),
])
def test_reproduce_mistakes_end_in_one_line_and_write_nothing(monkeypatch, tmp_path, argv, fragment):
    out = tmp_path / "results"
    exit_ = _exit_of(monkeypatch, reproduce, *argv, "--no-run", f"--out={out}", f"--root={tmp_path / 'runs'}")
    assert isinstance(exit_.code, str) and exit_.code.startswith("error: ") and fragment in exit_.code, exit_.code
    assert not out.exists()  # no header-only table (with the default --out: over a committed file)


def test_sweep_argument_mistake_is_one_line(monkeypatch):
    exit_ = _exit_of(monkeypatch, sweep, "--sweep=x.py", "--root=r", "--backend=nosuch")
    assert isinstance(exit_.code, str) and exit_.code.startswith("error: argument --backend"), exit_.code


def test_damaged_checkpoint_is_one_warning_without_tracebacks(tmp_path, monkeypatch, caplog):
    import logging
    import shutil

    from lra.checkpoint import CheckpointStore

    monkeypatch.delenv("WAVSPA_TRACEBACK", raising=False)
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    target = {f"layer{i}": np.full((4,), i, np.float32) for i in range(60)}
    store = CheckpointStore(tmp_path / "checkpoints", keep=3)
    store.save(1, target, {"x": 1})
    store.save(2, target, {"x": 2})
    store.close()
    for data in (tmp_path / "checkpoints" / "2" / "state").glob("**/d"):
        shutil.rmtree(data)
    store = CheckpointStore(tmp_path / "checkpoints", keep=3)
    with caplog.at_level(logging.WARNING):
        _, loop = store.restore_latest(target)
    store.close()
    gc.collect()
    assert loop == {"x": 1}
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "cannot be restored" in warnings[0].getMessage()
    assert warnings[0].exc_info is None
    assert [u for u in unraisable if "Event loop is closed" in str(u.exc_value)] == []


@pytest.mark.slow
def test_disk_full_names_the_intact_checkpoints_and_how_to_resume(listops_config, tmp_path, monkeypatch):
    from lra.checkpoint import CheckpointStore
    from lra.train import DiskFullError, train_and_evaluate

    save = CheckpointStore.save

    def save_until_full(self, step, state, loop):
        if step > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        save(self, step, state, loop)

    monkeypatch.setattr(CheckpointStore, "save", save_until_full)
    with pytest.raises(DiskFullError) as caught:
        train_and_evaluate(listops_config(num_train_steps=4), tmp_path / "run")
    message = str(caught.value)
    assert "no space left" in message and "checkpoints at steps [2] are intact" in message
    assert "rerun the same command to resume" in message
    assert isinstance(caught.value, UserError)


def test_analyze_on_a_run_without_an_evaluated_state(listops_config, tmp_path):
    from lra.analysis.run import load_run

    workdir = tmp_path / "run"
    (workdir / "best").mkdir(parents=True)
    (workdir / "config.json").write_text(listops_config().to_json_best_effort())
    with pytest.raises(ConfigError, match="holds no best state yet: the run has not been evaluated yet"):
        load_run(workdir, "best")
