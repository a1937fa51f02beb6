"""``python -m lra.sweep``: folders, the local backend, skipping, commands, the aggregate, Ray.

The training runs are smoke-scale ListOps on generated data (4 steps, a checkpoint every 2):
four of them (2 variants x 2 seeds) through the local backend, shared by the tests of this module,
and two on a local 2-CPU Ray instance, one of which fails after its first checkpoint once.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import sys
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np
import pytest
from absl import flags
from ml_collections import config_flags

from lra import sweep
from lra.config import load_config
from lra.experiments import backends

REPO = Path(__file__).resolve().parents[2]
SWEEP = "tests/sweep/tiny_sweep.py"
COMMON = {"scale": "smoke", "data.source": "generate"}
# The folders the README's naming rule gives these runs, written out by hand.
TRANSFORMER, FIXED = "listops-transformer", "listops-transformer_fixed"
CONFIG_OF = {TRANSFORMER: "configs/listops.py:transformer", FIXED: "configs/listops.py:transformer,fixed"}
SEED_FOLDER = "data.source=generate,scale=smoke,seed={}"
FAILING = f"{TRANSFORMER}/batch_size=3,data.source=generate,scale=smoke,seed=0"


def folders(seeds):
    return [f"{group}/{SEED_FOLDER.format(seed)}" for group in (TRANSFORMER, FIXED) for seed in seeds]


def run_sweep(*args, backend="local"):
    out = io.StringIO()
    code = sweep.main([*args, f"--backend={backend}"], out=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Jobs run from the repository root and share the suite's compilation cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        patch.setenv("JAX_COMPILATION_CACHE_DIR", jax.config.jax_compilation_cache_dir)
        patch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
        base = tmp_path_factory.mktemp("sweep")
        yield SimpleNamespace(base=base, shared=[f"--set=data.dir={base / 'data'}", "--set=progress_bar=false"])


@pytest.fixture(scope="module")
def local_sweep(env):
    root = env.base / "runs"
    code, output = run_sweep(f"--sweep={SWEEP}:all,fail", f"--root={root}", "--seeds=2", *env.shared)
    return SimpleNamespace(root=root, code=code, output=output)


def summary(root, folder):
    return json.loads((root / folder / "summary.json").read_text())


# -- folder names ------------------------------------------------------------------------------------

def test_folder_rule_readable_stable_and_hashed_when_not_exact():
    run = sweep.Run.make("configs/text.py:performer,ada", {"seed": 1, "model.space.wavelet": "sym2"})
    assert run.folder() == "text-performer_ada/model.space.wavelet=sym2,seed=1"
    assert sweep.Run.make("configs/text.py", {}).folder() == "text/defaults"
    # Characters outside [A-Za-z0-9._+-] are replaced and a hash of the exact overrides appended.
    a = sweep.Run.make("configs/text.py:performer", {"data.dir": "/a/b"})
    b = sweep.Run.make("configs/text.py:performer", {"data.dir": "/a_b"})
    assert a.name().startswith("data.dir=_a_b-") and b.name().startswith("data.dir=_a_b-")
    assert a.name() != b.name()
    assert a.name() == sweep.Run.make("configs/text.py:performer", {"data.dir": "/a/b"}).name()
    long = sweep.Run.make("configs/text.py:performer", {f"model.key{i}": 1000 + i for i in range(20)})
    assert len(long.name()) <= sweep.MAX_NAME and long.name()[-9] == "-"
    # The same run spelled with its overrides in another order is the same folder.
    assert sweep.Run.make("c/x.py", {"b": 1, "a": 2}).folder() == sweep.Run.make("c/x.py", {"a": 2, "b": 1}).folder()


# -- local backend, skipping, commands, aggregate ------------------------------------------------------

@pytest.mark.slow
def test_local_sweep_runs_every_job_and_reports_the_failed_one(env, local_sweep):
    root = local_sweep.root
    assert local_sweep.code == 1, local_sweep.output  # one job failed
    for folder in folders([0, 1]):
        result = summary(root, folder)
        assert result["steps_completed"] == 4
        group, _, name = folder.partition("/")
        seed = int(name.rsplit("=", 1)[1])
        # The job trained exactly the config the sweep names: file, overrides, then --set.
        expected = load_config(CONFIG_OF[group], {**COMMON, "seed": seed, "data.dir": str(env.base / "data"),
                                                  "progress_bar": False})
        assert result["config"] == json.loads(expected.to_json_best_effort())
    assert not (root / FAILING / "summary.json").exists()
    failed = [line for line in local_sweep.output.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and failed[0].startswith(f"FAILED {FAILING}: exit status 1: error:")
    assert "batch" in failed[0]
    assert "4 finished, 1 failed, 0 skipped" in local_sweep.output


@pytest.mark.slow
def test_rerun_skips_finished_runs_without_starting_a_job(env, local_sweep, monkeypatch):
    root = local_sweep.root
    before = {f: (root / f / "summary.json").stat().st_mtime_ns for f in folders([0, 1])}
    logs = {f: (root / f / "train.log").read_text() for f in folders([0, 1])}

    def no_job(*args, **kwargs):
        raise AssertionError(f"a job was started: {args}")

    monkeypatch.setattr(backends, "execute", no_job)
    code, output = run_sweep(f"--sweep={SWEEP}:all", f"--root={root}", "--seeds=2", *env.shared)
    assert code == 0 and "4 runs: 0 to run, 4 already finished" in output
    assert before == {f: (root / f / "summary.json").stat().st_mtime_ns for f in folders([0, 1])}
    assert logs == {f: (root / f / "train.log").read_text() for f in folders([0, 1])}


def parse_train_command(argv):
    """What lra.train's flags make of ``argv``: config file, override values, workdir (fresh flag set)."""
    argv = ["lra.train", *argv]
    values = flags.FlagValues()
    config_flags.DEFINE_config_file("config", None, "", flag_values=values, sys_argv=argv)
    flags.DEFINE_string("workdir", None, "", flag_values=values)
    values(argv)
    return (config_flags.get_config_filename(values["config"]), config_flags.get_override_values(values["config"]),
            values.workdir)


@pytest.mark.slow
def test_commands_backend_prints_the_unfinished_runs_only(env, local_sweep, capsys):
    root = local_sweep.root
    code, output = run_sweep(f"--sweep={SWEEP}:all,fail", f"--root={root}", "--seeds=3", *env.shared,
                             backend="commands")
    assert code == 0
    lines = output.splitlines()
    expected = {str(root / f) for f in folders([2]) + [FAILING]}
    assert len(lines) == len(expected)
    workdirs = set()
    for line in lines:
        argv = shlex.split(line)
        assert argv[:3] == ["python", "-m", "lra.train"]
        spec, overrides, workdir = parse_train_command(argv[3:])
        workdirs.add(workdir)
        assert not (Path(workdir) / "summary.json").exists()
        group, _, name = Path(workdir).relative_to(root).as_posix().partition("/")
        assert spec == CONFIG_OF[group]
        sweep_values = {**COMMON, "seed": int(name.rsplit("=", 1)[1])}
        if "batch_size" in name:
            sweep_values["batch_size"] = 3
        assert overrides == {**sweep_values, "data.dir": str(env.base / "data"), "progress_bar": False}
        assert load_config(spec, overrides).to_dict() == load_config(
            spec, {**sweep_values, "data.dir": str(env.base / "data"), "progress_bar": False}).to_dict()
    assert workdirs == expected


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_aggregate_matches_the_summaries(env, local_sweep):
    root = local_sweep.root
    code, output = run_sweep(f"--sweep={SWEEP}:all", f"--root={root}", "--seeds=3", "--aggregate",
                             "--fields=best_val_accuracy,param_count,variant,config.model.space.kind")
    assert code == 0, output
    rows = read_csv(root / "results.csv")
    assert [row["config"] for row in rows] == [CONFIG_OF[TRANSFORMER], CONFIG_OF[FIXED]]
    for row, group in zip(rows, (TRANSFORMER, FIXED)):
        done = [summary(root, f"{group}/{SEED_FOLDER.format(seed)}") for seed in (0, 1)]
        accuracy = np.array([s["test_accuracy"] for s in done])
        assert row["overrides"] == "data.source=generate, scale=smoke"
        assert (int(row["n"]), int(row["missing"])) == (2, 1)
        assert row["missing_runs"] == f"{group}/{SEED_FOLDER.format(2)}"
        assert float(row["test_accuracy_mean"]) == pytest.approx(accuracy.mean(), abs=1e-12)
        assert float(row["test_accuracy_std"]) == pytest.approx(accuracy.std(ddof=1), abs=1e-12)
        assert float(row["steps_mean"]) == np.mean([s["steps_completed"] for s in done])
        assert float(row["wall_seconds_mean"]) == pytest.approx(np.mean([s["wall_seconds"] for s in done]))
        assert float(row["best_val_accuracy"]) == pytest.approx(np.mean([s["best_val_accuracy"] for s in done]))
        assert float(row["param_count"]) == np.mean([s["param_count"] for s in done])
        assert row["variant"] == done[0]["variant"]
        assert row["config.model.space.kind"] == done[0]["config"]["model"]["space"]["kind"]
    # Every finished run kept: its row (independently: its summary.json) and its validation curve.
    run_rows = read_csv(root / "results_runs.csv")
    assert [(r["attention"], r["space"], r["seed"]) for r in run_rows] == [
        ("transformer", "none", "0"), ("transformer", "none", "1"), ("transformer", "fixed", "0"),
        ("transformer", "fixed", "1")]
    for r, folder in zip(run_rows, folders([0, 1])):
        s = summary(root, folder)
        assert r["run"] == Path(folder).name and r["overrides"] == "data.source=generate, scale=smoke"
        assert float(r["test_accuracy"]) == pytest.approx(s["test_accuracy"], abs=1e-6)
        assert int(r["steps_completed"]) == s["steps_completed"] and r["hardware"] == s["hardware"]
        vals = [json.loads(line) for line in (root / folder / "metrics.jsonl").read_text().splitlines()]
        vals = [v for v in vals if v["split"] == "val"]
        curve = [c for c in read_csv(root / "results_curves.csv") if c["run"] == r["run"] and c["space"] == r["space"]]
        assert [int(c["step"]) for c in curve] == [v["step"] for v in vals]
        assert [float(c["val_accuracy"]) for c in curve] == pytest.approx([v["accuracy"] for v in vals], abs=1e-6)
    markdown = (root / "results.md").read_text()
    assert "Missing runs (2):" in markdown
    assert all(f"- `{folder}`" in markdown for folder in folders([2]))
    assert f"{float(rows[0]['test_accuracy_mean']):.4f}" in markdown

    # One seed: n = 1, no standard deviation, nothing missing.
    code, _ = run_sweep(f"--sweep={SWEEP}:all", f"--root={root}", "--seeds=1", "--aggregate")
    rows = read_csv(root / "results.csv")
    assert [(r["n"], r["missing"], r["test_accuracy_std"]) for r in rows] == [("1", "0", "")] * 2
    assert float(rows[1]["test_accuracy_mean"]) == summary(root, f"{FIXED}/{SEED_FOLDER.format(0)}")["test_accuracy"]
    assert "Missing runs: none." in (root / "results.md").read_text()


# -- mistakes --------------------------------------------------------------------------------------

def test_mistakes_end_in_one_line_before_any_job(env, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backends, "execute", lambda *a, **k: pytest.fail("a job was started"))
    bad = tmp_path / "bad.py"
    bad.write_text("def get_sweep(arg=None):\n"
                   "    return [{'config': 'configs/listops.py:transformer', 'overrides': {'model.num_layer': 2}}]\n")
    cases = {
        f"--sweep={bad}": "unknown config key 'model.num_layer'",
        f"--sweep={tmp_path / 'none.py'}": "not found",
        f"--sweep={SWEEP}:one --set=data.source=release": "also sets 'data.source'",
    }
    for args, words in cases.items():
        monkeypatch.setattr(sys, "argv", ["lra.sweep", *args.split(), f"--root={tmp_path / 'runs'}"])
        with pytest.raises(SystemExit) as exit_info:
            sweep.run()
        message = str(exit_info.value.code)
        assert message.startswith("error: ") and words in message and "\n" not in message, message
    # Without Ray installed, the ray backend says how to install it.
    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setattr(sys, "argv", ["lra.sweep", f"--sweep={SWEEP}:one", f"--root={tmp_path / 'runs'}",
                                      "--backend=ray"])
    with pytest.raises(SystemExit) as exit_info:
        sweep.run()
    assert str(exit_info.value.code).startswith("error: --backend=ray needs Ray: pip install -e \".[sweep]\"")


def test_example_sweeps_resolve():
    runs = sweep.expand_seeds(sweep.load_sweep(str(REPO / "configs/sweeps/example.py:smoke")), 2)
    sweep.check_folders(runs)
    sweep.validate_runs(runs, [])
    assert len(runs) == 12
    for arg, count in (("listops,small", 8), ("text,smoke,grid=full", 12), ("image,wavelets=haar+db4,levels=2", 2)):
        runs = sweep.load_sweep(str(REPO / f"configs/sweeps/wavelet_families.py:{arg}"))
        sweep.check_folders(runs)
        sweep.validate_runs(runs, [])
        assert len(runs) == count
    # The default grid is Table 10's rows.
    with open(REPO / "results/paper/table10.csv", newline="") as handle:
        paper = {(r["wavelet"], int(r["level"])) for r in csv.DictReader(handle) if r["task"] == "listops"}
    runs = sweep.load_sweep(str(REPO / "configs/sweeps/wavelet_families.py:listops"))
    assert {(r.values["model.space.wavelet"], r.values["model.space.level"]) for r in runs} == paper
    assert {r.config for r in runs} == {"configs/listops.py:performer,fixed"}


# -- Ray -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ray_sweep_retries_a_failed_run_which_resumes(env, local_sweep):
    pytest.importorskip("ray", reason="the Ray backend's test needs ray (pip install -e '.[dev]')")
    root = env.base / "ray_runs"
    flaky = root / TRANSFORMER / SEED_FOLDER.format(1)
    flaky.mkdir(parents=True)
    (flaky / "FAIL_ONCE").touch()  # tests.sweep.flaky_train: fail once after the first checkpoint
    code, output = run_sweep(f"--sweep={SWEEP}:one", f"--root={root}", "--seeds=2", *env.shared,
                             "--ray_num_cpus=2", "--cpus_per_run=1", "--max_retries=1",
                             "--train_module=tests.sweep.flaky_train", backend="ray")
    assert code == 0, output
    assert "2 finished, 0 failed" in output
    assert (flaky / "FAILED_ONCE").read_text() == "2" and not (flaky / "FAIL_ONCE").exists()
    log = (flaky / "train.log").read_text()
    assert log.count("\n# ") == 2 and "injected failure" in log and "resuming from" in log
    # The retry continued from step 2: every step logged once, in order, then the test records.
    records = [json.loads(line) for line in (flaky / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["split"] == "train"] == [1, 2, 3, 4]
    assert [r["step"] for r in records if r["split"] == "val"] == [2, 4]
    assert [r["split"] for r in records][-2:] == ["test", "test_final_state"]
    # And it ended where the uninterrupted run of the same config and seed (local backend) did.
    resumed, uninterrupted = summary(root, f"{TRANSFORMER}/{SEED_FOLDER.format(1)}"), summary(
        local_sweep.root, f"{TRANSFORMER}/{SEED_FOLDER.format(1)}")
    for key in ("steps_completed", "test_accuracy", "best_val_accuracy", "final_train_loss"):
        assert resumed[key] == pytest.approx(uninterrupted[key], rel=1e-6), key
    assert summary(root, f"{TRANSFORMER}/{SEED_FOLDER.format(0)}")["steps_completed"] == 4
