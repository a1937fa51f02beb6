"""Smoke tests of ``python -m lra.bench --suite ...``: each suite runs at a tiny size and writes
its section and rows (benchmarks are not tests: no timing is checked)."""

from __future__ import annotations

import csv
import math

import pytest

from lra import bench
from lra.bench.report import write_report

pytestmark = pytest.mark.slow  # every test here runs training or a subprocess

TINY = ["--set", "model.num_layers=1", "--set", "model.emb_dim=16", "--set", "model.qkv_dim=16",
        "--set", "model.mlp_dim=32", "--reps", "1", "--host", "smoke"]


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _values(rows, metric):
    """``{case: value}`` of one metric's rows, each value checked to be a positive finite number."""
    values = {r["case"]: float(r["value"]) for r in rows if r["metric"] == metric}
    assert values and all(math.isfinite(v) and v > 0 for v in values.values()), (metric, values)
    return values


def test_table8_writes_its_section(tmp_path):
    bench.main(["--suite", "table8", "--lengths", "32", "--tokens", "64", "--attentions", "transformer",
                "--results-dir", str(tmp_path)] + TINY)
    text = (tmp_path / "bench_smoke.md").read_text()
    assert text.count("<!-- suite:table8 -->") == 1 and "transformer,lift" in text and "load average" in text
    rows = _rows(tmp_path / "bench_smoke.csv")
    variants = {r["case"] for r in rows if r["metric"] == "train_latency"}
    assert variants == {"transformer", "transformer,fixed", "transformer,ada", "transformer,ortho", "transformer,lift"}
    assert len([r for r in rows if r["metric"] == "train_latency"]) == 5
    wavelet_params = {r["case"]: int(r["value"]) for r in rows if r["metric"] == "wavelet_params"}
    # Table 8's added parameters at width d = 16: Ada L * d (Text: L = 16), Ortho L/2 * d (L = 16), none else.
    assert wavelet_params == {"transformer": 0, "transformer,fixed": 0, "transformer,ada": 16 * 16,
                              "transformer,ortho": 8 * 16, "transformer,lift": 0}
    for metric in ("train_latency", "inference_latency"):  # % of the original space's median, measured
        assert _values(rows, metric)["transformer"] == 100.0
    _values(rows, "train_step_s"), _values(rows, "eval_step_s")


def test_a_rerun_replaces_its_section_and_rows_and_keeps_the_others(tmp_path):
    write_report("h", "a", "first a", [{"case": "x", "metric": "m", "value": 1}], tmp_path)
    write_report("h", "b", "only b", [{"case": "y", "metric": "m", "value": 2}], tmp_path)
    write_report("h", "a", "second a", [{"case": "z", "metric": "m", "value": 3}], tmp_path)
    text = (tmp_path / "bench_h.md").read_text()
    assert "second a" in text and "first a" not in text and "only b" in text and text.count("<!-- suite:a -->") == 1
    assert sorted((r["suite"], r["case"]) for r in _rows(tmp_path / "bench_h.csv")) == [("a", "z"), ("b", "y")]


# Each suite at its least work: one model, length, channel count... (two lengths where a ratio per
# doubling is computed). Suite: (its arguments, a metric whose rows must be positive finite numbers).
SUITE_ROWS = {
    "scaling": (["--lengths", "32", "64", "--fit-lengths", "64", "--models", "transformer"], "train_step_s"),
    "transforms": (["--lengths", "32", "--channels", "4", "--batch", "2", "--filter-length", "4"],
                   "ours_forward_inverse_ms"),
    "efficiency": (["--lengths", "32", "--batch", "2"], "achieved"),
    "flops": (["--lengths", "32", "--batch", "2"], "train_flops_unchunked"),
    "peer": (["--lengths", "32", "--batch", "2", "--rounds", "1", "--peer-python", "/nonexistent/python"], "fwd_bwd_s"),
}


@pytest.mark.parametrize("suite", SUITE_ROWS)
def test_other_suites_run_at_a_tiny_size(tmp_path, suite):
    extra, metric = SUITE_ROWS[suite]
    bench.main(["--suite", suite, "--results-dir", str(tmp_path)] + extra + TINY)
    assert f"<!-- suite:{suite} -->" in (tmp_path / "bench_smoke.md").read_text()
    rows = [r for r in _rows(tmp_path / "bench_smoke.csv") if r["suite"] == suite]
    if suite == "peer":  # spectrans not installed: its row says so (NaN), ours are measured
        rows = [r for r in rows if r["case"].startswith("ours")]
    _values(rows, metric)
    if suite == "flops":  # 32 tokens are one attention block: the default compile counts every FLOP
        assert _values(rows, "train_flops_default_compile") == _values(rows, "train_flops_unchunked")


def test_variants_are_timed_side_by_side(tmp_path):
    out = tmp_path / "variants.md"
    report = bench.main(["--task", "listops", "--scale", "smoke", "--steps", "1", "--out", str(out),
                         "transformer", "transformer,fixed"])
    assert "| transformer | " in report and "| transformer,fixed | " in report and out.read_text() == report + "\n"
    assert "| 100.0% |" in report  # the baseline's latency vs itself
