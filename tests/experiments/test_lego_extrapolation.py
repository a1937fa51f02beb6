"""The LEGO extrapolation sweep resolves to the settings its docstring names; its table and plot."""
from lra import sweep as sweep_lib
from lra.config import load_config
from lra.experiments.lego_plots import write_lego

from ..train.conftest import REPO


def _configs(arg, sweep="lego_extrapolation"):
    entries = sweep_lib.load_entries(f"{REPO}/configs/sweeps/{sweep}.py:{arg}")
    return [load_config(str(REPO / e["config"].partition(":")[0]) + ":" + e["config"].partition(":")[2],
                        e["overrides"]) for e in entries]


def test_small_is_12_variables_first_half_supervised_both_models():
    configs = _configs("small")
    assert [(c.model.attention.kind, c.model.space.kind) for c in configs] == [("full", "none"), ("full", "ada")]
    for c in configs:
        assert (c.data.num_vars, c.data.num_train_vars, c.max_length) == (12, 6, 60)
        assert not c.early_stopping and c.track_test and c.model.position == "rope"


def test_paper_is_fig3_second_panel():
    for c in _configs("paper"):
        assert (c.data.num_vars, c.data.num_train_vars, c.max_length, c.model.num_layers) == (26, 20, 130, 12)


def test_the_search_changes_only_the_model_and_optimiser_never_the_task():
    configs = _configs("", sweep="lego_extrapolation_search")
    assert len(configs) >= 4
    task = {(c.data.num_vars, c.data.num_train_vars, c.data.num_train, c.max_length, c.model.position,
             c.early_stopping, c.data.num_test) for c in configs}
    assert task == {(12, 6, 120_000, 60, "rope", False, 2_000)}
    folders = {}  # one data folder per distinct generated data (a shared folder would be regenerated under a run)
    for c in configs:
        folders.setdefault(c.data.dir, set()).add(c.data.min_train_vars)
    assert all(len(kinds) == 1 for kinds in folders.values())
    models = {(c.model.num_layers, c.model.emb_dim, c.model.num_heads, c.learning_rate, c.batch_size)
              for c in configs}
    assert len(models) == len(configs)  # every candidate differs from the others
    assert all(c.model.attention.kind == "full" and c.model.space.kind == "none" for c in configs)
    assert {c.scale for c in _configs("smoke", sweep="lego_extrapolation_search")} == {"smoke"}


def test_the_table_marks_unsupervised_positions_and_plots(tmp_path):
    rows = [{"model": m, "index": i, "trained": i < 2, "ours_mean": 100.0 if i < 2 else 50.0, "ci90_low": 40.0
             if i >= 2 else 100.0, "ci90_high": 60.0 if i >= 2 else 100.0, "n": 5, "status": "ok"}
            for m in ("transformer", "transformer,ada") for i in range(4)]
    meta = {"num_train_vars": 2, "num_vars": 4, "summaries": []}
    paths = write_lego("small", rows, meta, tmp_path, "cmd", 0.0, name="lego_extrapolation")
    assert [p.name for p in paths] == ["lego_extrapolation_small.csv", "lego_extrapolation_small.md",
                                       "lego_extrapolation_small.png"]
    text = paths[1].read_text()
    assert "| 1 | 100.0" in text and "| 2 (test only) | 50.0 [40.0, 60.0] (n=5)" in text
    assert paths[2].stat().st_size > 0
