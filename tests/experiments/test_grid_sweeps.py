"""Table 5's rerun sweep: the dagger cells of Table 3 x the five configurations of results/paper/table5.csv."""
import csv

from lra import sweep as sweep_lib
from lra.config import load_config

from ..train.conftest import REPO


def _module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_table5", REPO / "configs" / "sweeps" / "table5.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_sweep_is_the_dagger_cells_times_table5():
    with open(REPO / "results" / "paper" / "table3.csv", newline="") as handle:
        daggers = {(r["task"], r["attention"], r["space"]) for r in csv.DictReader(handle) if "†" in r["note"]}
    with open(REPO / "results" / "paper" / "table5.csv", newline="") as handle:
        table5 = {(int(r["config"]), r["hyperparameter"]): float(r["value"]) for r in csv.DictReader(handle)}
    entries = sweep_lib.load_entries(f"{REPO}/configs/sweeps/table5.py")
    assert {(e["cell"]["task"], e["cell"]["attention"], e["cell"]["space"]) for e in entries} == daggers
    assert len(entries) == 5 * len(daggers) == 60
    assert len(sweep_lib.load_sweep(f"{REPO}/configs/sweeps/table5.py")) == 60  # 60 distinct runs
    for entry in entries[:: 7]:
        path, _, variant = entry["config"].partition(":")
        config = load_config(f"{REPO}/{path}:{variant}", entry["overrides"])
        for (number, key), value in table5.items():
            if number == entry["cell"]["config"]:
                assert float(config.model[key]) == value


def test_best_configuration_is_the_best_mean_validation():
    runs = [{"config": 1, "summary": {"best_val_accuracy": 0.6, "test_accuracy": 0.50}},
            {"config": 1, "summary": {"best_val_accuracy": 0.4, "test_accuracy": 0.70}},
            {"config": 2, "summary": {"best_val_accuracy": 0.55, "test_accuracy": 0.40}}]
    assert _module().best_configuration(runs) == {"config": 2, "val": 0.55, "test": 0.40, "n": 1}
    assert _module().best_configuration([]) is None
