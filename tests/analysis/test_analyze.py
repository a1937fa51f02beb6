"""``python -m lra.analyze`` end to end on two smoke runs it did not train itself.

Runs: ListOps smoke ``transformer,ada`` with a learned position table, and ``transformer`` with
RoPE. The checks recompute values independently: filters and tables read from the raw orbax
checkpoint (no model template), pywt's db20, diagonal means by loops, and the layer-0 attention
maps by a NumPy forward pass of the RoPE model (embedding, CLS, LayerNorm, projections, rotation,
masked softmax), whose entropies are compared with the table.
"""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import orbax.checkpoint as ocp
import pytest
import pywt

from lra import analyze
from lra.data import load_dataset
from lra.train import train_and_evaluate
from tests.train.conftest import smoke_config

FILES_ALWAYS = ["report.md", "analysis.json", "position_kernels.csv", "position_kernels.md", "position_kernels.png"]
FILES_HEADS = ["heads.csv", "heads.md", "layers.csv", "layers.md", "attention_maps.png", "head_spectra.png",
               "head_entropies.png", "head_metrics.png"]
FILES_WAVELETS = ["wavelet_symmetry.csv", "wavelet_symmetry.md", "wavelet_layers.csv", "wavelet_layers.md",
                  "wavelet_symmetry.png", "wavelet_responses.png", "wavelet_distance.png"]


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def raw_best_params(workdir: Path):
    """The best state's parameters straight from orbax (no template, no lra code)."""
    (step,) = [p for p in (workdir / "best").iterdir() if p.name.isdigit()]
    return ocp.StandardCheckpointer().restore((workdir / "best" / step.name / "state").absolute())["params"]


@pytest.fixture(scope="module")
def analysed(tmp_path_factory):
    root = tmp_path_factory.mktemp("analyze")
    runs = {
        "ada": smoke_config("listops", root, "transformer,ada", **{"model.position": "learned"}),
        "rope": smoke_config("listops", root, "transformer", **{"model.position": "rope"}),
    }
    for name, config in runs.items():
        train_and_evaluate(config, root / name)
    out = root / "out"
    prefix = root / "results" / "pe"
    code = analyze.main(["--workdir", str(root / "ada"), "--workdir", str(root / "rope"), "--out", str(out),
                         "--compare", str(prefix), "--group_by", "model.position"])
    assert code == 0
    return root, runs, out, prefix


@pytest.mark.slow
def test_every_file_is_written(analysed):
    _, _, out, prefix = analysed
    for name in FILES_ALWAYS + FILES_HEADS + FILES_WAVELETS:
        assert (out / "ada" / name).stat().st_size > 0, name
    for name in FILES_ALWAYS + FILES_HEADS:
        assert (out / "rope" / name).stat().st_size > 0, name
    assert not (out / "rope" / "wavelet_symmetry.csv").exists()
    assert "Not applicable" in (out / "rope" / "report.md").read_text()
    for suffix in (".md", ".csv", ".png"):
        assert Path(f"{prefix}{suffix}").stat().st_size > 0
    heads = read_csv(out / "rope" / "heads.csv")
    assert any("selectivity" in c for c in heads[0]) and any("entropy" in c for c in heads[0])
    assert any("symmetry" in c for c in read_csv(out / "ada" / "wavelet_symmetry.csv")[0])
    assert {"scale_sensitivity_0.5", "scale_sensitivity_0.25", "reconstruction_error", "band_low",
            "entropy_correlation", "wavelet_entropy_d1"} <= set(heads[0])


@pytest.mark.slow
def test_learned_wavelets_against_the_checkpoint_and_pywt(analysed):
    root, runs, out, _ = analysed
    filters = np.asarray(raw_best_params(root / "ada")["encoder"]["block_0"]["mixer"]["scaling_filters"], np.float64)
    length = runs["ada"].model.space.wavelet_length
    assert filters.shape == (runs["ada"].model.emb_dim, length) and length == 40
    db20 = np.asarray(pywt.Wavelet("db20").dec_lo)  # Ada's 'wavelet' initialisation: db{L/2}
    unit = lambda f: f / np.linalg.norm(f)  # noqa: E731
    rows = read_csv(out / "ada" / "wavelet_symmetry.csv")
    assert len(rows) == filters.shape[0] and {r["layer"] for r in rows} == {"0"}
    for r in rows:
        h = filters[int(r["channel"])]
        assert float(r["symmetry"]) == pytest.approx(np.abs(unit(h) - unit(h)[::-1]).sum(), rel=1e-5)
        assert float(r["symmetry_initial"]) == pytest.approx(np.abs(unit(db20) - unit(db20)[::-1]).sum(), rel=1e-5)
        assert float(r["relative_change"]) == pytest.approx(np.linalg.norm(h - db20) / np.linalg.norm(db20),
                                                            rel=1e-4, abs=1e-7)
    assert float(rows[0]["symmetry_initial"]) == pytest.approx(5.735, abs=1e-3)  # A.7's Fig. 4 line
    layers = read_csv(out / "ada" / "wavelet_layers.csv")
    assert layers[0]["initial_filters_identical"] == "True"
    assert float(layers[0]["relative_change_mean"]) > 0  # the filters trained


@pytest.mark.slow
def test_position_kernels_against_loops(analysed):
    root, runs, out, _ = analysed
    table = np.asarray(raw_best_params(root / "ada")["encoder"]["position"]["pos_embedding"], np.float64)
    train_lengths = load_dataset(runs["ada"]).splits["train"]["lengths"]
    used = int(train_lengths.max()) + 1  # + the CLS token

    def shift_invariance(p):
        k, n = p @ p.T, len(p)
        t = np.zeros_like(k)
        for delta in range(-(n - 1), n):
            cells = [(i, i - delta) for i in range(n) if 0 <= i - delta < n]
            mean = np.mean([k[c] for c in cells])
            for c in cells:
                t[c] = mean
        return (t**2).sum() / (k**2).sum()

    rows = {r["table"]: r for r in read_csv(out / "ada" / "position_kernels.csv")}
    assert set(rows) == {"sinusoidal", "learned", "learned (initial)"}
    assert rows["learned"]["used_by_model"] == "True" and rows["sinusoidal"]["used_by_model"] == "False"
    assert int(rows["learned"]["rows"]) == len(table) == runs["ada"].max_length + 1
    assert int(rows["learned"]["used_rows"]) == used
    assert float(rows["learned"]["shift_invariance"]) == pytest.approx(shift_invariance(table), rel=1e-5)
    assert float(rows["learned"]["shift_invariance_used_rows"]) == pytest.approx(shift_invariance(table[:used]),
                                                                                 rel=1e-5)
    assert float(rows["sinusoidal"]["shift_invariance"]) == pytest.approx(1.0, abs=1e-9)


def numpy_layer0_maps(params, tokens, lengths, num_heads):
    """Layer-0 maps of the pre-LN RoPE transformer with a CLS token, in float64 NumPy."""
    enc = {k: v for k, v in params["encoder"].items()}
    x = np.asarray(enc["embed"]["embedding"], np.float64)[tokens]  # [E, n, d]
    cls = np.broadcast_to(np.asarray(enc["cls"], np.float64), (len(tokens), 1, x.shape[-1]))
    x = np.concatenate([cls, x], axis=1)
    ln = enc["block_0"]["norm_mixer"]
    mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    x = (x - mu) / np.sqrt(var + 1e-6) * np.asarray(ln["scale"]) + np.asarray(ln["bias"])
    attn = enc["block_0"]["mixer"]["attention"]
    q = np.einsum("bnf,fhd->bnhd", x, np.asarray(attn["query"]["kernel"], np.float64))
    k = np.einsum("bnf,fhd->bnhd", x, np.asarray(attn["key"]["kernel"], np.float64))
    n, dh = q.shape[1], q.shape[-1]
    half = dh // 2
    angle = np.arange(n)[:, None] * 10000.0 ** (-np.arange(half) / half)[None, :]
    cos, sin = np.cos(angle)[None, :, None, :], np.sin(angle)[None, :, None, :]

    def rotate(a):
        a1, a2 = a[..., :half], a[..., half:]
        return np.concatenate([a1 * cos - a2 * sin, a1 * sin + a2 * cos], -1)

    logits = np.einsum("bqhd,bkhd->bhqk", rotate(q), rotate(k)) / np.sqrt(dh)
    valid = np.arange(n)[None, :] < (np.asarray(lengths) + 1)[:, None]
    logits = np.where(valid[:, None, None, :], logits, -np.inf)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    assert p.shape[1] == num_heads
    return p / p.sum(-1, keepdims=True)


@pytest.mark.slow
def test_head_entropies_equal_a_numpy_forward_pass(analysed):
    root, runs, out, _ = analysed
    config = runs["rope"]
    test = load_dataset(config).splits["test"]
    chosen = np.nonzero(test["lengths"] >= 8)[0][:16]  # the default: 16 examples with >= 2 / 0.25 tokens
    assert json.loads((out / "rope" / "analysis.json").read_text())["examples"] == chosen.tolist()
    maps = numpy_layer0_maps(raw_best_params(root / "rope"), test["inputs"][chosen], test["lengths"][chosen],
                             config.model.num_heads)
    sizes = test["lengths"][chosen] + 1
    nfft = max(8, 2 ** math.ceil(math.log2(2 * sizes.max())))
    rows = {(r["layer"], r["sequence"], r["head"]): r for r in read_csv(out / "rope" / "heads.csv")}
    assert set(rows) == {("0", "tokens", "0"), ("0", "tokens", "1")}
    for h in range(config.model.num_heads):
        hp, hs = [], []
        for e, size in enumerate(sizes):
            a = maps[e, h, :size, :size]
            hp.append(-(a * np.log(np.where(a > 0, a, 1))).sum(-1))
            window = np.sin(np.pi * (np.arange(size) + 1) / (size + 1)) ** 2
            power = np.abs(np.fft.rfft(a * window, nfft)) ** 2
            power /= power.sum(-1, keepdims=True)
            hs.append(-(power * np.log(np.where(power > 0, power, 1))).sum(-1))
        row = rows[("0", "tokens", str(h))]
        assert int(row["maps"]) == len(chosen)
        assert float(row["positional_entropy"]) == pytest.approx(np.concatenate(hp).mean(), rel=1e-4)
        assert float(row["spectral_entropy"]) == pytest.approx(np.concatenate(hs).mean(), rel=1e-4)
        assert float(row["entropy_correlation"]) == pytest.approx(
            np.corrcoef(np.concatenate(hp), np.concatenate(hs))[0, 1], abs=1e-3)
        assert float(row["reconstruction_error"]) < 1e-5


@pytest.mark.parametrize("alpha", [0.5, 0.25])
@pytest.mark.slow
def test_scale_sensitivity_equals_a_numpy_forward_on_the_scaled_inputs(analysed, alpha):
    """x_alpha keeps every 1/alpha-th token; its layer-0 maps are compared with the full maps on
    [CLS] + those tokens (rows renormalised), row by row through pywt's db2 coefficients."""
    root, runs, out, _ = analysed
    config = runs["rope"]
    test = load_dataset(config).splits["test"]
    chosen = np.nonzero(test["lengths"] >= 8)[0][:16]
    tokens, lengths = test["inputs"][chosen], test["lengths"][chosen]
    params = raw_best_params(root / "rope")
    full = numpy_layer0_maps(params, tokens, lengths, 2)
    kept = [np.floor(np.arange(int(length * alpha)) * length / int(length * alpha)).astype(int) for length in lengths]
    small = np.zeros_like(tokens)
    for e, idx in enumerate(kept):
        small[e, : len(idx)] = tokens[e, idx]
    scaled = numpy_layer0_maps(params, small, np.array([len(i) for i in kept]), 2)
    level = max(1, pywt.dwt_max_level(min(len(i) for i in kept) + 1, 4))
    rows = {(r["layer"], r["head"]): r for r in read_csv(out / "rope" / "heads.csv")}
    for h in range(2):
        values = []
        for e, idx in enumerate(kept):
            pos = np.r_[0, 1 + idx]
            a = full[e, h][np.ix_(pos, pos)]
            a = a / a.sum(-1, keepdims=True)
            b = scaled[e, h, : len(pos), : len(pos)]
            ca = np.concatenate(pywt.wavedec(a, "db2", level=level, axis=-1), -1)
            cb = np.concatenate(pywt.wavedec(b, "db2", level=level, axis=-1), -1)
            cos = (ca * cb).sum(-1) / np.linalg.norm(ca, axis=-1) / np.linalg.norm(cb, axis=-1)
            values.append(1 - cos.mean())
        assert float(rows[("0", str(h))][f"scale_sensitivity_{alpha:g}"]) == pytest.approx(np.mean(values), rel=1e-3,
                                                                                          abs=1e-6)


@pytest.mark.slow
def test_wavelet_space_maps_are_per_band(analysed):
    _, runs, out, _ = analysed
    rows = read_csv(out / "ada" / "heads.csv")
    assert sorted({r["sequence"] for r in rows}) == ["band_0", "band_1"]  # level 1: approximation, detail
    n = runs["ada"].max_length + 1
    for r in rows:
        assert int(r["maps"]) == 16
        assert 0 < float(r["mean_length"]) <= math.ceil(n / 2)
        assert 0 <= float(r["positional_entropy"]) <= math.log(math.ceil(n / 2))
    assert "coefficient band" in (out / "ada" / "report.md").read_text()


@pytest.mark.slow
def test_compare_table_pools_each_runs_heads(analysed):
    _, _, out, prefix = analysed
    groups = {(r["group"], r["layer"]): r for r in read_csv(f"{prefix}.csv")}
    assert set(groups) == {("learned", "all"), ("learned", "0"), ("rope", "all"), ("rope", "0")}
    for name, group in (("rope", "rope"), ("ada", "learned")):
        heads = read_csv(out / name / "heads.csv")
        for metric in ("scale_sensitivity_0.5", "selectivity", "positional_entropy"):
            assert float(groups[(group, "all")][metric]) == pytest.approx(
                np.mean([float(h[metric]) for h in heads]), rel=1e-5)
        assert groups[(group, "all")]["runs"] == "1" and groups[(group, "all")]["heads"] == str(len(heads))
    rope_heads = read_csv(out / "rope" / "heads.csv")  # both eq. 10 readings reach the comparison
    for metric in ("scale_sensitivity_dyadic_0.5", "scale_sensitivity_dyadic_0.25"):
        assert float(groups[("rope", "all")][metric]) == pytest.approx(
            np.mean([float(h[metric]) for h in rope_heads]), rel=1e-5)
    text = Path(f"{prefix}.md").read_text()
    assert "python -m lra.analyze" in text and "separated" in text
    assert "| scale_sensitivity_dyadic_0.5 | lower |" in text and "BERT 0.507" in text


def test_mistakes_end_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "lra.analyze", "--workdir", str(tmp_path / "nothing"),
                             "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error:") and "config.json" in result.stderr


def test_position_encodings_sweep_resolves():
    from lra import sweep

    repo = Path(__file__).resolve().parents[2]
    runs = sweep.expand_seeds(sweep.load_sweep(str(repo / "configs/sweeps/position_encodings.py")), 2)
    sweep.check_folders(runs)
    sweep.validate_runs(runs, [])
    assert sorted((r.values["model.position"], r.values["seed"]) for r in runs) == sorted(
        (p, s) for p in ("rope", "sinusoidal", "learned", "none") for s in (0, 1))
    assert {r.config for r in runs} == {"configs/quickstart.py:transformer"}
    assert runs[0].folder() == "quickstart-transformer/model.position=rope,seed=0"
    smoke = sweep.load_sweep(str(repo / "configs/sweeps/position_encodings.py:transformer,ada,smoke"))
    assert {r.config for r in smoke} == {"configs/quickstart.py:transformer,ada"}
    assert all(r.values["scale"] == "smoke" for r in smoke)
