"""``python -m lra.reproduce`` at smoke scale: a restricted Table 3 grid and LEGO Fig. 3, on
generated data, checked against the runs' own summaries and metrics (independent arithmetic)."""

from __future__ import annotations

import csv
import json
import statistics
import subprocess
import sys

import numpy as np
import pytest

from lra.experiments.run_results import replay_early_stopping
from lra.experiments.tables import table_rows
from lra.metrics import read_metrics

from .conftest import REPO, subprocess_env


def _reproduce(tmp_path, *args):
    """``python -m lra.reproduce`` in a subprocess (compiled as the whole suite is, without XLA's
    optimisations: ``JAX_DISABLE_MOST_OPTIMIZATIONS`` is inherited, tests/conftest.py)."""
    out, root = tmp_path / "out", tmp_path / "runs"
    env = subprocess_env()
    result = subprocess.run(
        [sys.executable, "-m", "lra.reproduce", *args, f"--out={out}", f"--root={root}",
         f"--set=data.dir={tmp_path / 'data'}", "--set=progress_bar=false"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return out, root / "smoke"


def _summaries(root, group):
    return {p.parent.name: json.loads(p.read_text()) for p in sorted((root / group).glob("*/summary.json"))}


@pytest.mark.slow
def test_table3_smoke_writes_paper_and_ours_side_by_side(tmp_path):
    out, root = _reproduce(tmp_path, "--table=3", "--scale=smoke", "--seeds=2", "--tasks=listops,text",
                           "--attentions=transformer", "--spaces=none,fixed")
    with open(out / "table3_smoke.csv", newline="") as handle:
        rows = {(r["task"], r["attention"], r["space"]): r for r in csv.DictReader(handle)}
    assert {"paper", "ours_mean", "ours_std", "n", "delta", "ours_early_stopping_mean", "steps", "data_source",
            "hardware", "status"} <= set(next(iter(rows.values())))
    for space, paper in (("none", 36.37), ("fixed", 37.15)):  # the paper's Table 3 cells
        row = rows[("listops", "transformer", space)]
        group = "listops-transformer" + ("" if space == "none" else "_fixed")
        summaries = _summaries(root, group)
        accuracies = [100 * s["test_accuracy"] for s in summaries.values()]
        assert len(accuracies) == 2 and row["n"] == "2" and row["status"] == "ok"
        assert float(row["paper"]) == paper
        assert float(row["ours_mean"]) == pytest.approx(statistics.fmean(accuracies), abs=1e-3)
        assert float(row["ours_std"]) == pytest.approx(statistics.stdev(accuracies), abs=1e-3)
        assert float(row["delta"]) == pytest.approx(statistics.fmean(accuracies) - paper, abs=1e-3)
        assert row["data_source"] == "generate" and all(s["scale"] == "smoke" for s in summaries.values())
        assert all(not s["config"]["early_stopping"] for s in summaries.values())
    for space in ("none", "fixed"):  # Text's data is not on this machine: never a made-up number
        row = rows[("text", "transformer", space)]
        assert row["status"].startswith("no data: text: data not found") and row["ours_mean"] == ""
    averages = [r for key, r in rows.items() if key[0].startswith("avg")]
    assert all(r["ours_mean"] == "" and r["status"].startswith("no average") for r in averages)
    text = (out / "table3_smoke.md").read_text()
    assert "| listops | transformer | fixed | 37.15 |" in text and "python -m lra.reproduce --table=3" in text
    _check_run_files_and_references(out / "table3_smoke", rows, tmp_path / "data" / "listops-1000")


def _check_run_files_and_references(stem, rows, data_folder):
    """Every run has a row in ``_runs.csv`` from which the table's mean, std and 90% interval
    recompute (t quantile from scipy); the curves hold each run's validation curve; the ListOps
    rows carry the reference rules of the runs' own data folder."""
    from scipy import stats

    from lra.experiments.listops_rules import reference_accuracies

    assert open(f"{stem}.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"  # the validation-curve plot
    with open(f"{stem}_runs.csv", newline="") as handle:
        runs = list(csv.DictReader(handle))
    with open(f"{stem}_curves.csv", newline="") as handle:
        curves = list(csv.DictReader(handle))
    references = reference_accuracies(str(data_folder))
    for space in ("none", "fixed"):
        row = rows[("listops", "transformer", space)]
        mine = [100 * float(r["test_accuracy"]) for r in runs if r["space"] == space]
        assert sorted(r["seed"] for r in runs if r["space"] == space) == ["0", "1"]
        half = stats.t.ppf(0.95, len(mine) - 1) * np.std(mine, ddof=1) / np.sqrt(len(mine))
        assert float(row["ours_mean"]) == pytest.approx(np.mean(mine), abs=1e-3)
        assert float(row["ours_std"]) == pytest.approx(np.std(mine, ddof=1), abs=1e-3)
        assert float(row["ours_ci90"]) == pytest.approx(half, abs=1e-3)
        assert float(row["top_operator"]) == pytest.approx(100 * references["top_operator"], abs=1e-3)
        assert row["learned"] == ("yes" if np.mean(mine) - 100 * references["top_operator"] > half else "no")
        for run in (r for r in runs if r["space"] == space):
            steps = [int(c["step"]) for c in curves if c["run"] == run["run"] and c["space"] == space]
            assert steps == [2, 4] and run["steps_completed"] == "4" and run["stop_reason"] == "num_train_steps"
            assert run["commit"] and run["hardware"] and float(run["wall_seconds"]) > 0


def test_early_stopping_replay_follows_a4():
    records = [{"split": "val", "step": s, "accuracy": a} for s, a in
               ((10, 0.2), (20, 0.5), (30, 0.4), (40, 0.45), (50, 0.6), (60, 0.3))]
    records += [{"split": "test_tracked", "step": s, "accuracy": s / 100} for s in (10, 20, 30, 40, 50, 60)]
    # min_steps 30, patience 20: at 40 only 20 steps since the best (20) -> stop at 40, keep step 20.
    assert replay_early_stopping(records, min_steps=30, patience=20) == {
        "test_accuracy": 0.2, "best_step": 20, "stop_step": 40}
    # patience 30: never triggered before 50 improves; runs to the end, keeps step 50.
    assert replay_early_stopping(records, min_steps=30, patience=30) == {
        "test_accuracy": 0.5, "best_step": 50, "stop_step": 60}
    assert replay_early_stopping([r for r in records if r["split"] == "val"], 0, 10) is None


@pytest.mark.slow
def test_lego_smoke_writes_per_position_intervals_and_a_plot(tmp_path):
    # The Transformer's rows only (what is checked): the sweep's AdaWavSpA runs are left out.
    out, root = _reproduce(tmp_path, "--table=lego", "--scale=smoke", "--seeds=2", "--spaces=none")
    assert (out / "lego_smoke.png").stat().st_size > 0
    with open(out / "lego_smoke.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["model"] == "transformer"]
    summaries = list(_summaries(root, "lego-transformer").values())
    by_index = np.array([s["test_accuracy_by_index"] for s in summaries], dtype=float) * 100
    num_vars = summaries[0]["config"]["data"]["num_vars"]
    assert len(rows) == num_vars and by_index.shape == (2, num_vars)
    with open(out / "lego_smoke_positions.csv", newline="") as handle:  # every run's per-position accuracy
        positions = [r for r in csv.DictReader(handle) if r["model"] == "transformer"]
    committed = np.array([[float(r["test_accuracy"]) for r in positions if r["seed"] == str(seed)]
                          for seed in (0, 1)]) * 100
    np.testing.assert_allclose(np.sort(committed, axis=0), np.sort(by_index, axis=0))
    t90 = 6.313751514675041  # Student t, 95th percentile, 1 degree of freedom (two runs)
    for row, values in zip(rows, by_index.T):
        mean, half = values.mean(), t90 * values.std(ddof=1) / np.sqrt(2)
        assert float(row["ours_mean"]) == pytest.approx(mean, abs=1e-3)
        assert float(row["ci90_high"]) - float(row["ci90_low"]) == pytest.approx(2 * half, abs=1e-3)
        assert row["trained"] == str(int(row["index"]) < summaries[0]["config"]["data"]["num_train_vars"])
    # the root-sign reference rule per position, scored on the runs' own test split
    from lra.experiments.lego_rules import rule_accuracy_by_position
    rule = rule_accuracy_by_position(str(tmp_path / "data" / "lego" / "lego_test.tsv"))["root_sign"]
    assert [float(r["root_sign_rule"]) for r in rows] == pytest.approx([100 * a for a in rule])
    assert "| root-sign rule |" in (out / "lego_smoke.md").read_text()
    folders = sorted((root / "lego-transformer").iterdir())
    assert len(folders) == 2 and all("model.position=rope" in f.name for f in folders)  # RoPE below paper scale
    for folder in folders:  # the metrics the table replays were logged
        assert any(r["split"] == "test_tracked" for r in read_metrics(folder))


@pytest.mark.slow
def test_a_restricted_grid_keeps_only_the_averages_of_its_own_groups(tmp_path):
    """Table 4 restricted to one cell: its task row and the two averages of its (attention, space)
    group, which name the tasks without a number; no other group's average rows."""
    cell = {"labels": {"task": "listops", "attention": "transformer", "space": "ada"}, "runs": [],
            "no_data": "listops: data not found"}
    rows = table_rows("4", [cell], tmp_path, restricted=True)
    assert [(r["task"], r["attention"], r["space"]) for r in rows] == [
        ("listops", "transformer", "ada"), ("avg", "transformer", "ada"), ("avg_wo_r", "transformer", "ada")]
    assert rows[1]["status"] == "no average: no number for listops, text, retrieval, image, pathfinder"
    assert rows[2]["status"] == "no average: no number for listops, text, image, pathfinder"
    assert len(table_rows("4", [cell], tmp_path)) > 3  # unrestricted: every paper row
