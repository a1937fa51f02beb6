"""Smoke tests of ``python -m lra.bench --suite ...``: each suite runs at a tiny size and writes
its section and rows (benchmarks are not tests: no timing is checked)."""

from __future__ import annotations

import csv

import pytest

from lra import bench
from lra.bench.report import write_report

pytestmark = pytest.mark.slow  # every test here runs training or a subprocess

TINY = ["--set", "model.num_layers=1", "--set", "model.emb_dim=16", "--set", "model.qkv_dim=16",
        "--set", "model.mlp_dim=32", "--reps", "1", "--host", "smoke"]


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_table8_writes_its_section(tmp_path):
    bench.main(["--suite", "table8", "--lengths", "32", "--tokens", "64", "--attentions", "transformer",
                "--results-dir", str(tmp_path)] + TINY)
    text = (tmp_path / "bench_smoke.md").read_text()
    assert text.count("<!-- suite:table8 -->") == 1 and "transformer,lift" in text and "load average" in text
    rows = _rows(tmp_path / "bench_smoke.csv")
    variants = {r["case"] for r in rows if r["metric"] == "train_latency"}
    assert variants == {"transformer", "transformer,fixed", "transformer,ada", "transformer,ortho", "transformer,lift"}
    assert len([r for r in rows if r["metric"] == "train_latency"]) == 5
    ada = next(r for r in rows if r["case"] == "transformer,ada" and r["metric"] == "wavelet_params")
    assert int(ada["value"]) == 16 * 16  # L * d (Text: L = 16), width 16


def test_a_rerun_replaces_its_section_and_rows_and_keeps_the_others(tmp_path):
    write_report("h", "a", "first a", [{"case": "x", "metric": "m", "value": 1}], tmp_path)
    write_report("h", "b", "only b", [{"case": "y", "metric": "m", "value": 2}], tmp_path)
    write_report("h", "a", "second a", [{"case": "z", "metric": "m", "value": 3}], tmp_path)
    text = (tmp_path / "bench_h.md").read_text()
    assert "second a" in text and "first a" not in text and "only b" in text and text.count("<!-- suite:a -->") == 1
    assert sorted((r["suite"], r["case"]) for r in _rows(tmp_path / "bench_h.csv")) == [("a", "z"), ("b", "y")]


@pytest.mark.parametrize("suite,extra", [
    ("scaling", ["--lengths", "32", "64", "--fit-lengths", "64", "--models", "transformer", "linear,fixed"]),
    ("transforms", ["--lengths", "32", "--channels", "4", "--batch", "2"]),
    ("efficiency", ["--lengths", "32", "--batch", "2"]),
    ("flops", ["--lengths", "32", "--batch", "2"]),
    ("peer", ["--lengths", "32", "--batch", "2", "--rounds", "1", "--peer-python", "/nonexistent/python"]),
])
def test_other_suites_run_at_a_tiny_size(tmp_path, suite, extra):
    bench.main(["--suite", suite, "--results-dir", str(tmp_path)] + extra + TINY)
    assert f"<!-- suite:{suite} -->" in (tmp_path / "bench_smoke.md").read_text()
    assert any(r["suite"] == suite for r in _rows(tmp_path / "bench_smoke.csv"))


def test_variants_are_timed_side_by_side(tmp_path):
    out = tmp_path / "variants.md"
    report = bench.main(["--task", "listops", "--scale", "smoke", "--steps", "1", "--out", str(out),
                         "transformer", "transformer,ada"])
    assert "| transformer | " in report and "| transformer,ada | " in report and out.read_text() == report + "\n"
