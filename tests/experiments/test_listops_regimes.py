"""The regime map on hand-written run folders (summary.json + metrics.jsonl) of the smoke sweep's runs:
its numbers against the values written, the reference rules against the rules on the same folder."""
import csv
import json
import statistics

import pytest
from flax import traverse_util
from scipy import stats

from lra.config import load_config
from lra.data.generators.listops import generate_listops
from lra.experiments import listops_regimes
from lra.experiments.listops_rules import binomial_half_width, reference_accuracies
from lra.experiments.sweep_files import load_entries

DATA = {"source": "generate", "generator_seed": 0, "num_train": 40, "num_val": 10, "num_test": 20,
        "min_tokens": 16, "max_tokens": 64, "max_depth": 6, "max_args": 10}
VAL = {2: 0.2, 4: 0.5, 6: 0.4, 8: 0.3}  # best by 1/4 of 8 steps: 0.2; by 1/2: 0.5; by all: 0.5


def _fake_run(folder, data, seed, test_accuracy, num_train_steps=8, commits=("abc",)):
    folder.mkdir(parents=True)
    config = {"seed": seed, "num_train_steps": num_train_steps, "min_steps": 0, "patience_fraction": 0.1, "data": data}
    summary = {"test_accuracy": test_accuracy, "best_val_accuracy": 0.5, "best_step": 4, "steps_completed": 8,
               "stop_reason": "num_train_steps", "wall_seconds": 10.0, "hardware": "test cpu",
               "versions": {"wavspa_commit": commits[0]}, "config": config}
    if len(commits) > 1:  # resumed under another checkout (lra.train)
        summary["wavspa_commits"] = list(commits)
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "metrics.jsonl").write_text("".join(
        json.dumps({"step": s, "split": "val", "accuracy": a}) + "\n" for s, a in VAL.items()))


def test_the_map_reads_runs_references_and_intervals(tmp_path):
    data = dict(DATA, dir=str(tmp_path / "data"))
    folder = generate_listops(data["dir"], 0, 40, 10, 20, 16, 64, 6, 10)
    cells = listops_regimes.regime_cells("smoke", seeds=2)
    first = [c for c in cells if c["labels"]["max_tokens"] == 64]  # the two models of the 64-token regime
    assert [listops_regimes.model_name(c["labels"]) for c in first] == ["transformer", "transformer,ada"]
    root = tmp_path / "runs"
    for run, accuracy in zip(first[0]["runs"], (0.60, 0.70), strict=True):  # transformer: 2 seeds
        _fake_run(run.workdir(root), data, run.seed, accuracy)
    _fake_run(first[1]["runs"][0].workdir(root), data, 0, 0.30, commits=("abc", "def"))  # ada: seed 0 only
    out = tmp_path / "out"
    assert listops_regimes.main([f"--root={root}", "--scale=smoke", "--seeds=2", f"--out={out}"]) == 0
    with open(out / "listops_regimes_smoke.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    refs = reference_accuracies(folder)
    transformer, ada = rows[0], rows[1]
    assert transformer["n"] == "2" and transformer["status"] == "ok" and ada["status"] == "1 runs missing"
    assert float(transformer["test_mean"]) == pytest.approx(65.0)
    half = stats.t.ppf(0.95, 1) * statistics.stdev([60.0, 70.0]) / 2 ** 0.5
    assert float(transformer["test_ci90"]) == pytest.approx(half, abs=1e-3)
    assert [float(transformer[f"best_val_{f}"]) for f in ("0.25", "0.5", "1")] == pytest.approx([20, 50, 50])
    assert float(transformer["top_operator"]) == pytest.approx(100 * refs["top_operator"], abs=1e-3)
    assert transformer["learned"] == ("yes" if 65.0 - 100 * refs["top_operator"] > half else "no")
    ada_half = 100 * binomial_half_width(0.30, 20)
    assert ada["learned"].startswith(("yes" if 30.0 - 100 * refs["top_operator"] > ada_half else "no")
                                     + " (1 seed, test-sampling interval")
    assert all(r["status"] == "2 runs missing" and r["test_mean"] == "" for r in rows[2:])
    with open(out / "listops_regimes_smoke_runs.csv", newline="") as handle:
        runs = list(csv.DictReader(handle))
    assert sorted(float(r["test_accuracy"]) for r in runs) == [0.3, 0.6, 0.7]
    assert {r["max_tokens"] for r in runs} == {"64"}
    assert sorted(r["commit"] for r in runs) == ["abc", "abc", "abc -> def"]
    with open(out / "listops_regimes_smoke_curves.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 3 * len(VAL)
    assert (out / "listops_regimes_smoke.png").stat().st_size > 0
    assert "| 64 | 6 | transformer |" in (out / "listops_regimes_smoke.md").read_text()


def test_runs_from_an_earlier_maps_records_give_the_same_map(tmp_path):
    """--records: a run whose folder is gone enters the map from the committed _runs.csv and
    _curves.csv, and the map's numbers are those of the map made from the folders. (A recorded run's
    budget is its planned config's: these runs are given the smoke sweep's 4 steps.)"""
    import shutil

    data = dict(DATA, dir=str(tmp_path / "data"))
    generate_listops(data["dir"], 0, 40, 10, 20, 16, 64, 6, 10)
    first = [c for c in listops_regimes.regime_cells("smoke", seeds=2) if c["labels"]["max_tokens"] == 64]
    root = tmp_path / "runs"
    for run, accuracy in zip(first[0]["runs"], (0.60, 0.70), strict=True):
        _fake_run(run.workdir(root), data, run.seed, accuracy, num_train_steps=4)
    _fake_run(first[1]["runs"][0].workdir(root), data, 0, 0.30, num_train_steps=4)
    before, after = tmp_path / "before", tmp_path / "after"
    assert listops_regimes.main([f"--root={root}", "--scale=smoke", "--seeds=2", f"--out={before}"]) == 0
    shutil.rmtree(first[0]["runs"][1].workdir(root))  # transformer seed 1: only in the records now
    shutil.rmtree(first[1]["runs"][0].workdir(root))  # ada seed 0: likewise
    assert listops_regimes.main([f"--root={root}", "--scale=smoke", "--seeds=2", f"--out={after}",
                                 f"--records={before / 'listops_regimes_smoke'}"]) == 0
    def rows(folder, suffix):
        with open(folder / f"listops_regimes_smoke{suffix}", newline="") as handle:
            return sorted(map(tuple, csv.reader(handle)))

    for suffix in (".csv", "_runs.csv", "_curves.csv"):
        assert rows(after, suffix) == rows(before, suffix), suffix
    assert "2 of the runs were read from the committed" in (after / "listops_regimes_smoke.md").read_text()
    # Without --records the two runs are missing again.
    assert listops_regimes.main([f"--root={root}", "--scale=smoke", "--seeds=2", f"--out={tmp_path / 'bare'}"]) == 0
    with open(tmp_path / "bare" / "listops_regimes_smoke.csv", newline="") as handle:
        bare = list(csv.DictReader(handle))
    assert bare[0]["n"] == "1" and bare[1]["status"] == "2 runs missing" and bare[1]["n"] == "0"


def test_records_of_a_one_seed_map_fill_seed_0_of_a_two_seed_map(tmp_path):
    """Runs are matched by model, overrides and seed: a one-seed map's records fill seed 0 of a
    two-seed map whose seed 1 is on disk."""
    import shutil

    data = dict(DATA, dir=str(tmp_path / "data"))
    generate_listops(data["dir"], 0, 40, 10, 20, 16, 64, 6, 10)
    (one_seed,) = listops_regimes.regime_cells("smoke", seeds=1)[0]["runs"]
    (seed_0, seed_1) = listops_regimes.regime_cells("smoke", seeds=2)[0]["runs"]
    root = tmp_path / "runs"
    assert one_seed.seed == seed_0.seed == 0
    _fake_run(one_seed.workdir(root), data, 0, 0.60, num_train_steps=4)
    first = tmp_path / "first"
    assert listops_regimes.main([f"--root={root}", "--scale=smoke", f"--out={first}"]) == 0
    shutil.rmtree(root)
    _fake_run(seed_1.workdir(root), data, 1, 0.70, num_train_steps=4)
    second = tmp_path / "second"
    assert listops_regimes.main([f"--root={root}", "--scale=smoke", "--seeds=2", f"--out={second}",
                                 f"--records={first / 'listops_regimes_smoke'}"]) == 0
    with open(second / "listops_regimes_smoke.csv", newline="") as handle:
        transformer = next(csv.DictReader(handle))
    assert transformer["n"] == "2" and float(transformer["test_mean"]) == pytest.approx(65.0)


def test_the_small_preset_trains_the_chosen_regime():
    """ListOps ``small`` is the map's 64-token, depth-6 regime (configs/listops.py says why): every key
    that changes training or the train/val data matches the map's runs; only the test split (5,000
    examples for Table 3/4 instead of the map's 2,000), the data folder and where A.4's replay may
    stop differ. A preset edited away from the regime the map measured fails here."""
    [regime] = [e["overrides"] for e in load_entries("configs/sweeps/listops_regimes.py")
                if e["config"].endswith(":transformer") and e["overrides"]["data.max_tokens"] == 64
                and e["overrides"]["data.max_depth"] == 6]
    preset, mapped = (traverse_util.flatten_dict(load_config("configs/listops.py:transformer", o).to_dict(), sep=".")
                      for o in ({"scale": "small"}, regime))
    differ = {key for key in preset.keys() | mapped.keys() if preset.get(key) != mapped.get(key)}
    assert differ == {"data.num_test", "data.dir", "data.source", "min_steps"}
    assert preset["data.num_test"] == 5_000 and mapped["data.num_test"] == 2_000
