"""Benchmark suites of ``python -m lra.bench --suite <name> --host <label>``.

Each suite measures side by side in one process (every case compiled first, then ``--reps``
rounds that run each case once in turn: interleaved repeats, medians), records the load average
before and after every round, and replaces its own section of ``results/bench_<host>.md`` and its
own rows of ``results/bench_<host>.csv`` (the other suites' sections and rows are kept).

* ``table8``: the paper's Table 8 on our code: train-step and inference latency of every wavelet
  space as % of the same attention in the original space, and the added parameters.
* ``scaling``: compiled peak memory and step time vs sequence length per model.
* ``transforms``: our DWT vs jaxwt vs pywt; learned filter banks forward+inverse and gradients.
* ``peer``: spectrans 0.1.0's WaveletTransformer (its own venv) vs our ``wavelet_mixing`` and our
  no-mixer floor at equal config.
* ``efficiency``: achieved FLOP/s of the full-attention train step vs the matmul peak measured in
  the same run.

Timings are wall-clock medians; ``cpu`` columns are the process CPU time (both threads) of the
same calls. Each section states how many cores other processes used during it (host busy time
minus this process's); other jobs inflate absolute times, ratios measured in one interleaved run
are what the tables compare.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import functools
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from lra.provenance import hardware_description, ram_gib

REPO = Path(__file__).resolve().parents[1]
OTHER_CORES_LIMIT = 0.25  # cores other processes may use before a table is marked as measured under load

# --- measurement ------------------------------------------------------------------------------


@dataclasses.dataclass
class Timing:
    wall: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    @property
    def spread(self) -> str:
        return f"{min(self.wall):.3g}-{max(self.wall):.3g}"


def _busy_seconds() -> float | None:
    """CPU seconds all processes of the host have been busy (``/proc/stat``; None elsewhere)."""
    try:
        with open("/proc/stat") as handle:
            fields = [int(v) for v in handle.readline().split()[1:]]
    except (OSError, ValueError):  # pragma: no cover - not Linux
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and its finished children (the peer's subprocess)."""
    return sum(os.times()[:4])


class LoadLog:
    """Load averages (1 min) sampled during a suite, and how much CPU other processes took.

    The load average counts this benchmark's own threads (about one per core while it runs), so
    the verdict uses the host's busy CPU time minus this process's: the cores other jobs held.
    """

    def __init__(self):
        self.samples: list[float] = []
        self.start_wall, self.start_busy, self.start_own = time.perf_counter(), _busy_seconds(), _own_seconds()
        self.sample()

    def sample(self) -> None:
        self.samples.append(os.getloadavg()[0])

    def other_cores(self) -> float | None:
        """Mean number of cores busy with other processes since the suite started."""
        busy = _busy_seconds()
        if busy is None or self.start_busy is None:
            return None
        wall = max(time.perf_counter() - self.start_wall, 1e-9)
        own = _own_seconds() - self.start_own
        return max(0.0, (busy - self.start_busy - own) / wall)

    def note(self) -> str:
        lo, hi = min(self.samples), max(self.samples)
        text = (f"load average (1 min) during the run: {lo:.2f}-{hi:.2f} (median "
                f"{statistics.median(self.samples):.2f}; this benchmark's own threads count)")
        others = self.other_cores()
        if others is not None:
            text += f"; other processes used {others:.2f} of {os.cpu_count()} cores"
            if others > OTHER_CORES_LIMIT:
                text += ("; **measured while other jobs shared the cores**: absolute times are inflated and "
                         "noisy, ratios were measured side by side in one interleaved run")
        return text


def interleaved(cases: dict[str, Callable[[], Any]], reps: int, loads: LoadLog,
                progress: bool = True) -> dict[str, Timing]:
    """Run every case once per round, ``reps`` rounds (cases already compiled and warmed up)."""
    out = {name: Timing([], []) for name in cases}
    for rep in range(reps):
        for name, fn in cases.items():
            start, cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(fn())
            out[name].wall.append(time.perf_counter() - start)
            out[name].cpu.append(time.process_time() - cpu)
        loads.sample()
        if progress:
            print(f"  round {rep + 1}/{reps} done, load {loads.samples[-1]:.2f}", flush=True)
    return out


def hardware() -> str:
    """The hardware line of a benchmark section: the devices and host, and the jax version."""
    return f"{hardware_description()}; jax {jax.__version__}"


# --- model variants -----------------------------------------------------------------------------


@dataclasses.dataclass
class Prepared:
    """A compiled train step and eval step of one config variant, ready to call repeatedly."""

    name: str
    params: int
    train: Callable[[], Any]
    eval: Callable[[], Any]
    compile_s: float
    memory_bytes: int
    config: Any
    wavelet_params: int = 0


WAVELET_PARAM_NAMES = ("scaling_filters", "angles", "predict", "update")


def wavelet_param_count(params) -> int:
    """Parameters of the wavelet transforms themselves (Table 8's 'Add. Wavelet Parameters')."""
    total = 0
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        if getattr(path[-1], "key", None) in WAVELET_PARAM_NAMES:
            total += int(np.prod(leaf.shape))
    return total


def peak_bytes(compiled) -> int:
    stats = compiled.memory_analysis()
    return int(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
               - stats.alias_size_in_bytes)


def flops_of(compiled) -> float:
    analysis = compiled.cost_analysis()
    if isinstance(analysis, list):
        analysis = analysis[0]
    return float(analysis.get("flops", 0.0))


def model_and_batch(task: str, variant: str, overrides: dict):
    """``configs/<task>.py:<variant>`` with ``overrides``: (config, model, train state, a random batch
    sharded over the local devices, a replicated dropout key, the devices)."""
    from lra.bench import random_batch
    from lra.config import load_config
    from lra.data import task_info
    from lra.steps import make_key, replicate
    from lra.train import create_train_state
    from wavspa_flax import build_model

    config = load_config(f"{REPO}/configs/{task}.py:{variant}", overrides)
    info = task_info(config)
    devices = jax.local_devices()
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    state = create_train_state(model, config, info, make_key(0))
    batch = random_batch(info, config.batch_size, len(devices))
    key = replicate(jax.random.key_data(make_key(1)), devices)
    return config, model, state, batch, key, devices


def prepare(task: str, variant: str, overrides: dict, name: str | None = None) -> Prepared:
    """Build, compile and warm up the real train step (pmap, AdamW, the config's dropout with the
    training loop's rbg keys) and eval step of ``configs/<task>.py:<variant>`` with ``overrides``."""
    from lra.steps import data_parallel, eval_step, replicate, train_step
    from lra.train import param_count

    config, model, state, batch, key, devices = model_and_batch(task, variant, overrides)
    holder = {"state": replicate(state, devices)}
    start = time.perf_counter()
    p_train = data_parallel(train_step, devices, donate_argnums=(0,)).lower(holder["state"], batch, key).compile()
    p_eval = data_parallel(functools.partial(eval_step, apply_fn=model.apply), devices).lower(
        holder["state"].params, batch).compile()
    compile_s = time.perf_counter() - start

    def train():
        holder["state"], metrics = p_train(holder["state"], batch, key)
        return metrics

    def evaluate():
        return p_eval(holder["state"].params, batch)

    jax.block_until_ready(train())
    jax.block_until_ready(evaluate())
    return Prepared(name or variant, param_count(state.params), train, evaluate, compile_s, peak_bytes(p_train), config,
                    wavelet_param_count(state.params))


# --- report files -------------------------------------------------------------------------------

CSV_FIELDS = ("suite", "section", "case", "metric", "value", "unit", "load_min", "load_max", "other_cores", "date",
              "hardware")


def write_report(host: str, suite: str, markdown: str, rows: list[dict], out_dir: Path | None = None) -> Path:
    """Replace ``suite``'s section of ``bench_<host>.md`` and its rows of ``bench_<host>.csv``."""
    out_dir = Path(out_dir or REPO / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, csv_path = out_dir / f"bench_{host}.md", out_dir / f"bench_{host}.csv"
    begin, end = f"<!-- suite:{suite} -->", f"<!-- /suite:{suite} -->"
    text = md_path.read_text() if md_path.exists() else (
        f"# Benchmarks on `{host}`\n\nWritten by `python -m lra.bench --suite <name> --host {host}`; each "
        "section is replaced when its suite is rerun. No GPU or TPU was available for these runs.\n")
    block = f"{begin}\n{markdown.rstrip()}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    md_path.write_text(text if text.endswith("\n") else text + "\n")
    kept = []
    if csv_path.exists():
        with open(csv_path, newline="") as handle:
            kept = [r for r in csv.DictReader(handle) if r.get("suite") != suite]
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for r in kept + [{"suite": suite, **r} for r in rows]:
            writer.writerow({k: r.get(k, "") for k in CSV_FIELDS})
    return md_path


def _header(title: str, command: str, loads: LoadLog, extra: str = "") -> str:
    return (f"## {title}\n\nCommand: `{command}`  \nDate: {datetime.datetime.now().isoformat(timespec='minutes')}  \n"
            f"Hardware: {hardware()}  \n{loads.note()}  \n{extra}\n")


def _row(section, case, metric, value, unit, loads: LoadLog) -> dict:
    shown = f"{value:.6g}" if isinstance(value, float) else value
    return {"section": section, "case": case, "metric": metric, "value": shown,
            "unit": unit, "load_min": f"{min(loads.samples):.2f}", "load_max": f"{max(loads.samples):.2f}",
            "other_cores": "" if loads.other_cores() is None else f"{loads.other_cores():.2f}",
            "date": datetime.date.today().isoformat(), "hardware": hardware()}


def _table(header: list[str], lines: list[list[str]]) -> str:
    out = io.StringIO()
    out.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
    for line in lines:
        out.write("| " + " | ".join(line) + " |\n")
    return out.getvalue()


# --- table8 ---------------------------------------------------------------------------------------

ATTENTIONS5 = ("transformer", "linformer", "linear", "longformer", "performer")
TABLE8_PAPER = {"fixed": (102.56, 103.03), "ada": (112.43, 112.16), "ortho": (119.97, 119.38), "lift": (63.52, 66.61)}
TABLE8_GOAL = {"fixed": 101.0, "ada": 105.0, "ortho": 105.0, "lift": 60.0}
TABLE8_PARAMS = {"fixed": "0", "ada": "L * d", "ortho": "L/2 * d", "lift": "0"}


def table8_variants(attentions) -> list[tuple[str, str, str]]:
    """(attention, space, config variant); the first of each attention is its original space."""
    out = []
    for attention in attentions:
        out.append((attention, "none", attention))
        out.append((attention, "fixed", f"{attention},fixed"))
        if attention == "transformer":
            out += [(attention, s, f"{attention},{s}") for s in ("ada", "ortho", "lift")]
    return out


def run_table8(args, command: str) -> tuple[str, list[dict]]:
    loads = LoadLog()
    sections, rows = [], []
    attentions = args.attentions or ATTENTIONS5
    for length in args.lengths:
        batch = max(1, args.tokens // length) if args.batch is None else args.batch
        overrides = {"max_length": length, "batch_size": batch, **args.overrides}
        print(f"table8: {length} tokens, batch {batch}", flush=True)
        prepared = {}
        for attention, space, variant in table8_variants(attentions):
            prepared[(attention, space)] = prepare(args.task, variant, overrides)
            print(f"  compiled {variant} ({prepared[(attention, space)].compile_s:.0f} s)", flush=True)
        cases = {}
        for key, p in prepared.items():
            cases[("train",) + key] = p.train
            cases[("eval",) + key] = p.eval
        timings = interleaved(cases, args.reps, loads)
        lines = []
        for attention, space, variant in table8_variants(attentions):
            base, p = prepared[(attention, "none")], prepared[(attention, space)]
            train, evaluate = timings[("train", attention, space)], timings[("eval", attention, space)]
            train_base, eval_base = timings[("train", attention, "none")], timings[("eval", attention, "none")]
            ratio_t = 100 * train.median / train_base.median
            ratio_e = 100 * evaluate.median / eval_base.median
            ratio_cpu = 100 * train.cpu_median / train_base.cpu_median
            added = p.params - base.params
            paper = TABLE8_PAPER.get(space) if attention == "transformer" else None
            goal = TABLE8_GOAL.get(space) if attention == "transformer" else None
            verdict = "" if goal is None else ("yes" if ratio_t <= goal else "**no**")
            formula = f" ({TABLE8_PARAMS[space]})" if space in TABLE8_PARAMS and attention == "transformer" else ""
            lines.append([variant, f"{train.median:.3f} ({train.spread})", f"{ratio_t:.1f}%", f"{ratio_cpu:.1f}%",
                          f"{evaluate.median:.3f}", f"{ratio_e:.1f}%", f"{p.wavelet_params:,}{formula}", f"{added:+,}",
                          "-" if paper is None else f"{paper[0]:.1f}% / {paper[1]:.1f}%",
                          "-" if goal is None else f"<= {goal:.0f}%: {verdict}"])
            section = f"{length} tokens, batch {batch}"
            rows += [_row(section, variant, "train_step_s", train.median, "s", loads),
                     _row(section, variant, "train_latency", ratio_t, "% of same attention, original space", loads),
                     _row(section, variant, "train_latency_cpu", ratio_cpu, "% (process CPU time)", loads),
                     _row(section, variant, "eval_step_s", evaluate.median, "s", loads),
                     _row(section, variant, "inference_latency", ratio_e, "% of same attention, original space", loads),
                     _row(section, variant, "wavelet_params", p.wavelet_params, "parameters", loads),
                     _row(section, variant, "added_params", added, "parameters (all, incl. per-band attention)", loads),
                     _row(section, variant, "compiled_train_peak", p.memory_bytes / 2 ** 20, "MiB", loads)]
        sections.append(f"### {length} tokens, batch {batch} ({args.reps} interleaved rounds)\n\n" + _table(
            ["variant", "train step s (range)", "train latency", "train CPU time", "eval step s", "inference latency",
             "wavelet params (Table 8)", "all params vs original",
             "paper train / inference (Table 8, 4096, accelerators)", "goal"], lines))
    cfg = next(iter(prepared.values())).config
    extra = (f"Config: `configs/{args.task}.py` (Table 6 Text column: {cfg.model.num_layers} layers, width "
             f"{cfg.model.emb_dim}, qkv {cfg.model.qkv_dim}, MLP {cfg.model.mlp_dim}, {cfg.model.num_heads} head, "
             f"dropout "
             f"{cfg.model.dropout}, attention dropout {cfg.model.attention_dropout}, CLS token: n+1 positions)"
             + (f" with overrides `{json.dumps(args.overrides)}`" if args.overrides else "")
             + ". Each row: the real train step (pmap on the one CPU device, AdamW, dropout with the training "
             "loop's rbg keys) and eval forward on random tokens; latency = median / median of the same attention "
             "in the original space (`none`), measured in the same interleaved rounds. Batch: "
             f"{args.tokens} tokens per step (memory would allow more; time does not).")
    title = "Table 8 on our code: latency of each space vs the same attention in the original space"
    return _header(title, command, loads, extra) + "\n" + "\n".join(sections), rows


# --- scaling --------------------------------------------------------------------------------------

SCALING_MODELS = ("transformer", "transformer,fixed", "transformer,ada", "transformer,ortho", "transformer,lift",
                  "performer", "performer,fixed", "linear", "linear,fixed", "linformer,fixed", "longformer,fixed")


def run_scaling(args, command: str) -> tuple[str, list[dict]]:
    loads = LoadLog()
    models = args.models or SCALING_MODELS
    overrides = {"batch_size": args.batch or 1, "model.num_layers": args.layers, **args.overrides}
    rows, lines = [], []
    times: dict[tuple[str, int], float] = {}
    memory_mib: dict[tuple[str, int], float] = {}
    ram = ram_gib() * 2 ** 30
    for length in args.lengths:
        prepared = {}
        for model in models:
            over = {"max_length": length, **overrides}
            if model.split(",")[0] == "linformer":
                over.setdefault("model.attention.linformer_k", 256)
            prepared[model] = prepare(args.task, model, over)
            print(f"  scaling {length}: compiled {model} ({prepared[model].compile_s:.0f} s)", flush=True)
        reps = args.reps if length <= 4096 else max(1, args.reps - 1)
        timings = interleaved({m: p.train for m, p in prepared.items()}, reps, loads)
        for model, p in prepared.items():
            times[(model, length)] = timings[model].median
            memory_mib[(model, length)] = p.memory_bytes / 2 ** 20
            rows += [_row(f"{length}", model, "train_step_s", timings[model].median, "s", loads),
                     _row(f"{length}", model, "compiled_train_peak", memory_mib[(model, length)], "MiB", loads)]
        del prepared
    for model in models:
        line = [model]
        for length in args.lengths:
            line.append(f"{times[(model, length)]:.3f} s / {memory_mib[(model, length)]:.0f} MiB")
        growth = [times[(model, b)] / times[(model, a)] for a, b in zip(args.lengths, args.lengths[1:])]
        line.append(" ".join(f"{g:.2f}" for g in growth))
        lines.append(line)
    fit = check_full_attention_fit(args, overrides, ram)
    extra = (f"Config: `configs/{args.task}.py` with {args.layers} layer(s), batch {overrides['batch_size']} "
             "(Text width: "
             "256, qkv 256, MLP 1024, 1 head), dropout as configured, the real train step; memory = compiled "
             "peak of the train step (`memory_analysis`: arguments + outputs + temporaries). Full attention "
             "runs chunked above 1024 queries (the default `chunk_size`). Linformer k = 256.")
    text = (_header("Scaling: train step time and compiled peak memory vs length", command, loads, extra) + "\n"
            + _table(["model"] + [f"{n} tokens" for n in args.lengths] + ["time ratio per doubling"], lines)
            + "\nA linear-time model shows ratios near 2 per doubling; full attention (softmax, n^2) near 4.\n\n"
            + fit)
    return text, rows


def check_full_attention_fit(args, overrides: dict, ram: float) -> str:
    """Compile (not run) full attention unchunked and chunked up to 32K: where does it stop fitting?"""
    lines = []
    for length in args.fit_lengths:
        cells = [f"{length}"]
        for chunk in (0, 1024):
            over = {"max_length": length, **overrides, "model.attention.chunk_size": chunk}
            compiled = compiled_train_step(args.task, "transformer", over)
            peak = peak_bytes(compiled)
            cells.append(f"{peak / 2 ** 30:.2f} GiB" + (" (**does not fit**)" if peak > ram else ""))
        lines.append(cells)
    return ("Full attention (transformer, original space), compiled train-step peak, same layers and batch, "
            f"vs this machine's {ram / 2 ** 30:.0f} GiB RAM:\n\n"
            + _table(["tokens", "unchunked (one n x n block)", "chunked (1024-query blocks, default)"], lines))


# --- transforms ------------------------------------------------------------------------------------


def run_transforms(args, command: str) -> tuple[str, list[dict]]:
    import pywt

    import wavspa_flax.wavelets as wl

    try:
        import jaxwt
    except ImportError:  # pragma: no cover - a project dependency
        jaxwt = None
    loads = LoadLog()
    b, n, c = args.batch or 8, args.lengths[0], args.channels
    x = jax.random.normal(jax.random.PRNGKey(0), (b, n, c), jnp.float32)
    x_np = np.asarray(x)
    cases = {}
    for name, level in (("db2", 1), ("db8", 3)):
        for mode in ("periodization", "symmetric"):
            ours = jax.jit(lambda x, name=name, level=level, mode=mode: wl.waverec(
                wl.wavedec(x, name, level, axis=-2, mode=mode), name, axis=-2, mode=mode, length=n))
            cases[("fixed", name, level, mode, "ours")] = functools.partial(ours, x)
            if jaxwt is not None and mode == "symmetric":
                peer = jax.jit(lambda x, name=name, mode=mode, level=level: jaxwt.waverec(
                    jaxwt.wavedec(x, name, mode=mode, level=level, axis=-2), name, axis=-2))
                cases[("fixed", name, level, mode, "jaxwt")] = functools.partial(peer, x)
            cases[("fixed", name, level, mode, "pywt")] = functools.partial(
                lambda x, name=name, mode=mode, level=level: pywt.waverec(
                    pywt.wavedec(x, name, mode=mode, level=level, axis=-2), name, mode=mode, axis=-2), x_np)
    length = args.filter_length
    banks = {
        "ada (direct filters)": (wl.init_scaling_filters("wavelet", c, length), lambda h: wl.qmf_filter_bank(h)),
        "ortho (lattice angles)": (wl.init_lattice_angles("uniform", c, length, key=jax.random.PRNGKey(2)),
                                   lambda a: wl.qmf_filter_bank(wl.lattice_scaling_filter(a, lowpass=False))),
    }
    for label, (param, to_bank) in banks.items():
        def transform(p, x, to_bank=to_bank):
            bank = to_bank(p)
            coeffs = wl.wavedec(x, bank, 1, axis=-2, mode="periodization", channel_axis=-1)
            return wl.waverec(coeffs, bank, axis=-2, mode="periodization", channel_axis=-1, length=n)
        constant = np.asarray(to_bank(param).dec_lo)
        fwd = jax.jit(transform)
        fwd_const = jax.jit(lambda x, h=constant: wl.waverec(
            wl.wavedec(x, wl.qmf_filter_bank(h), 1, axis=-2, mode="periodization", channel_axis=-1),
            wl.qmf_filter_bank(h), axis=-2, mode="periodization", channel_axis=-1, length=n))
        grad_all = jax.jit(jax.grad(lambda p, x, transform=transform: jnp.sum(transform(p, x) ** 2), argnums=(0, 1)))
        grad_x = jax.jit(jax.grad(lambda x, p, transform=transform: jnp.sum(transform(p, x) ** 2)))
        cases[("learned", label, "forward+inverse")] = functools.partial(fwd, param, x)
        cases[("learned", label, "forward+inverse, constant filters")] = functools.partial(fwd_const, x)
        cases[("learned", label, "gradient w.r.t. input only")] = functools.partial(grad_x, x, param)
        cases[("learned", label, "gradient w.r.t. filters and input")] = functools.partial(grad_all, param, x)
    for fn in cases.values():
        jax.block_until_ready(fn())
    timings = interleaved(cases, args.reps, loads)
    rows, fixed_lines, learned_lines = [], [], []
    for name, level in (("db2", 1), ("db8", 3)):
        for mode in ("periodization", "symmetric"):
            t = {who: timings.get(("fixed", name, level, mode, who)) for who in ("ours", "jaxwt", "pywt")}
            ms = {who: None if v is None else 1e3 * v.median for who, v in t.items()}
            fixed_lines.append([f"{name} level {level}", mode] + ["-" if v is None else f"{v:.1f}" for v in ms.values()]
                               + ["-" if ms["jaxwt"] is None else f"{ms['ours'] / ms['jaxwt']:.3f}",
                                  f"{ms['ours'] / ms['pywt']:.3f}"])
            for who, v in ms.items():
                if v is not None:
                    rows.append(_row("fixed", f"{name} L{level} {mode}", f"{who}_forward_inverse_ms", v, "ms", loads))
    for label in banks:
        base = timings[("learned", label, "forward+inverse")].median
        for what in ("forward+inverse", "forward+inverse, constant filters", "gradient w.r.t. input only",
                     "gradient w.r.t. filters and input"):
            t = timings[("learned", label, what)]
            learned_lines.append([label, what, f"{1e3 * t.median:.1f}", f"{t.median / base:.2f}x"])
            rows.append(_row("learned", label, what, 1e3 * t.median, "ms", loads))
        # What the filter gradients add: the two gradients differ only by them (same forward, same
        # input adjoint). By FLOPs they are one more pass of the size of forward+inverse (a correlation
        # per filter and tap), so a whole gradient costs at least ~3x forward+inverse.
        added = (timings[("learned", label, "gradient w.r.t. filters and input")].median
                 - timings[("learned", label, "gradient w.r.t. input only")].median)
        learned_lines.append([label, "filter gradients alone (difference of the two gradients)",
                              f"{1e3 * added:.1f}", f"{added / base:.2f}x"])
        rows.append(_row("learned", label, "filter gradients alone", 1e3 * added, "ms", loads))
    extra = (f"Shape ({b}, {n}, {c}) float32, transform along the sequence axis (-2); jitted (pywt: numpy); "
             f"learned banks: ({c}, {length}) per-channel filters, level 1, periodization; gradients of "
             "sum(reconstruction^2).")
    text = (_header("Transforms: our DWT vs jaxwt vs pywt, learned filter banks", command, loads, extra) + "\n"
            + "Fixed wavelet, forward + inverse, ms:\n\n"
            + _table(["wavelet", "mode", "ours", "jaxwt", "pywt", "ours/jaxwt", "ours/pywt"], fixed_lines)
            + "\njaxwt 0.1.1 has no periodization mode (`-`).\n\nLearned filter banks, ms (x = multiple of the "
            "learned forward+inverse):\n\n" + _table(["bank", "what", "ms", "x fwd+inv"], learned_lines)
            + "\nThe filter gradients are one correlation per filter and tap: as many FLOPs as forward+inverse, so a "
            "gradient w.r.t. filters and input costs at least ~3x forward+inverse (forward, input adjoint, filter "
            "adjoint); the row 'filter gradients alone' is what they add.\n")
    return text, rows


# --- peer (spectrans) --------------------------------------------------------------------------------


def _peer_model(mixer: str, n: int, layers: int, width: int):
    """Our block stack on float inputs [B, n, width], as spectrans' WaveletTransformer is used."""
    import flax.linen as nn

    from wavspa_flax import default_model_config
    from wavspa_flax.encoder import EncoderBlock, layer_norm
    from wavspa_flax.mixers import mixer_factory
    from wavspa_flax.position import AddPosition

    cfg = default_model_config()
    if mixer == "identity":
        cfg.mixer, cfg.attention.kind, cfg.space.kind = "attention", "identity", "none"
    else:
        cfg.mixer = mixer
        cfg.mixing.wavelet, cfg.mixing.level = "db2", 1
    factory = mixer_factory(cfg)

    class Stack(nn.Module):
        @nn.compact
        def __call__(self, x, *, deterministic: bool):
            x = AddPosition("sinusoidal", n)(x)
            x = nn.Dropout(0.1)(x, deterministic=deterministic)
            for i in range(layers):
                x = EncoderBlock(factory, 4 * width, "pre", 0.1, "gelu", name=f"block_{i}")(
                    x, None, deterministic=deterministic)
            return layer_norm(jnp.float32, "norm")(x)

    return Stack()


def run_peer(args, command: str) -> tuple[str, list[dict]]:
    loads = LoadLog()
    threads = args.threads
    width, layers, batch = 256, 4, args.batch or 8
    rows, lines = [], []
    peer_python = args.peer_python or str(Path.home() / ".cache/wavspa-peer/spectrans-venv/bin/python")
    for n in args.lengths:
        cases = {}
        for mixer in ("wavelet_mixing", "identity"):
            model = _peer_model(mixer, n, layers, width)
            x = jax.random.normal(jax.random.PRNGKey(0), (batch, n, width))
            params = jax.jit(lambda k, x, model=model: model.init(k, x, deterministic=True))(jax.random.PRNGKey(1), x)
            loss = lambda p, x, model=model: jnp.mean(model.apply(  # noqa: E731
                p, x, deterministic=False, rngs={"dropout": jax.random.key(3, impl="rbg")}) ** 2)
            step = jax.jit(jax.grad(loss)).lower(params, x).compile()
            cases[mixer] = functools.partial(step, params, x)
            jax.block_until_ready(cases[mixer]())
        ours = {k: Timing([], []) for k in cases}
        peer_samples: list[float] = []
        peer_info = {}
        for _ in range(args.rounds):
            for k, t in interleaved(cases, args.reps, loads, progress=False).items():
                ours[k].wall += t.wall
                ours[k].cpu += t.cpu
            if Path(peer_python).exists():
                out = subprocess.run([peer_python, str(REPO / "scripts/peer_spectrans.py"), "--length", str(n),
                                      "--batch", str(batch), "--reps", str(args.reps), "--threads", str(threads)],
                                     capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(threads),
                                          "OMP_WAIT_POLICY": "PASSIVE"})
                lines_out = [line for line in out.stdout.splitlines() if line.startswith("{")]
                if lines_out:
                    peer_info = json.loads(lines_out[-1])
                    peer_samples += peer_info["fwd_bwd_s"]
                else:
                    print(out.stderr[-3000:], file=sys.stderr)
            loads.sample()
        mix, floor = ours["wavelet_mixing"].median, ours["identity"].median
        peer = statistics.median(peer_samples) if peer_samples else float("nan")
        goal = 2.3 if n <= 1024 else 4.0
        lines.append([f"{n}", f"{mix:.3f} ({ours['wavelet_mixing'].spread})", f"{floor:.3f}",
                      f"{100 * (mix / floor - 1):+.1f}%", f"{peer:.3f}" + (
                          f" ({min(peer_samples):.3g}-{max(peer_samples):.3g})" if peer_samples else " (not run)"),
                      f"{peer / mix:.2f}x", f"mixer <= +10%: {'yes' if mix <= 1.1 * floor else '**no**'}; "
                      f">= {goal}x: {'yes' if peer / mix >= goal else '**no**'}"])
        rows += [_row(f"{n}", "ours wavelet_mixing", "fwd_bwd_s", mix, "s", loads),
                 _row(f"{n}", "ours no-mixer floor", "fwd_bwd_s", floor, "s", loads),
                 _row(f"{n}", "spectrans 0.1.0 WaveletTransformer", "fwd_bwd_s", peer, "s", loads),
                 _row(f"{n}", "speed-up", "spectrans/ours", peer / mix, "x", loads),
                 _row(f"{n}", "mixer overhead", "ours/floor-1", 100 * (mix / floor - 1), "%", loads)]
    versions = peer_info.get("versions", "not run") if peer_info else "not run"
    extra = (f"Equal config: hidden {width}, {layers} layers, MLP {4 * width}, db2 level 1, pointwise mixing, dropout "
             f"0.1 (train mode), sinusoidal positions, batch {batch}, float inputs N(0,1), loss mean(out^2), forward + "
             f"backward. {threads} threads each (XLA's CPU pool, one per core; torch.set_num_threads, with "
             "OMP_WAIT_POLICY=PASSIVE: with spinning OpenMP threads on the shared, loaded cores one spectrans step "
             "took 100x longer). Ours: the encoder blocks "
             "of this repo with `mixer=wavelet_mixing` (one weight per coefficient and channel, periodization); the "
             "floor is the same model with the mixer replaced by the identity (`identity` attention, no space). "
             f"Peer: spectrans 0.1.0 `WaveletTransformer` in its own venv (`scripts/setup_spectrans_peer.sh`; "
             f"{versions}), run by `scripts/peer_spectrans.py` in a subprocess between our rounds ({args.rounds} "
             "rounds "
             f"x {args.reps} reps each side, medians of all samples). spectrans: symmetric mode, one scalar per "
             "(band, channel), its own residual inside the mixer.")
    text = (_header("Peer: spectrans 0.1.0 WaveletTransformer vs our wavelet_mixing", command, loads, extra) + "\n"
            + _table(["tokens", "ours wavelet_mixing s", "ours no-mixer floor s", "mixer over floor",
                      "spectrans s", "spectrans / ours", "goals"], lines))
    return text, rows


# --- efficiency ------------------------------------------------------------------------------------


def matmul_peak(loads: LoadLog, size: int = 2048, reps: int = 5) -> tuple[float, Timing]:
    a = jax.random.normal(jax.random.PRNGKey(0), (size, size), jnp.float32)
    b = jax.random.normal(jax.random.PRNGKey(1), (size, size), jnp.float32)
    f = jax.jit(lambda a, b: a @ b)
    jax.block_until_ready(f(a, b))
    t = interleaved({"mm": functools.partial(f, a, b)}, reps, loads, progress=False)["mm"]
    return 2 * size ** 3 / t.median, t


def run_efficiency(args, command: str) -> tuple[str, list[dict]]:
    loads = LoadLog()
    rows, lines = [], []
    setups = (("paper", {"batch_size": args.batch or 8}), ("small", {"scale": "small", "batch_size": args.batch or 8}))
    for label, base in setups:
        for n in args.lengths:
            over = {"max_length": n, **base, **args.overrides}
            p = prepare(args.task, "transformer", over)
            # FLOPs from the unchunked compile of the same step: XLA's cost analysis counts a while
            # loop's body once, so the chunked (lax.map) form would be undercounted.
            flops = _step_flops(args.task, {**over, "model.attention.chunk_size": 0})
            peak, _ = matmul_peak(loads)
            t = interleaved({"train": p.train}, args.reps, loads, progress=False)["train"]
            peak_after, _ = matmul_peak(loads)
            peak = max(peak, peak_after)
            achieved = flops / t.median
            cfg = p.config
            m = cfg.model
            row_label = f"{label}: {m.num_layers} x {m.emb_dim}, qkv {m.qkv_dim}, MLP {m.mlp_dim}"
            lines.append([row_label, f"{n}", f"{cfg.batch_size}", f"{flops / 1e9:.1f}", f"{t.median:.3f}",
                          f"{achieved / 1e9:.1f}", f"{peak / 1e9:.1f}", f"{100 * achieved / peak:.1f}%"])
            rows += [_row(row_label, f"{n} tokens", "train_flops", flops, "FLOP", loads),
                     _row(row_label, f"{n} tokens", "train_step_s", t.median, "s", loads),
                     _row(row_label, f"{n} tokens", "achieved", achieved / 1e9, "GFLOP/s", loads),
                     _row(row_label, f"{n} tokens", "matmul_peak", peak / 1e9, "GFLOP/s", loads),
                     _row(row_label, f"{n} tokens", "fraction_of_peak", 100 * achieved / peak, "%", loads)]
    extra = ("Full attention (transformer, original space), the real train step (dropout as configured, AdamW). "
             "FLOPs: XLA cost analysis of the same step compiled unchunked (a while loop's body is counted once, "
             "so the chunked form's count would be too low). Peak: a 2048^3 float32 matmul, the better of two "
             "measurements around each model, in the same process.")
    text = (_header("Efficiency: achieved FLOP/s of the full-attention train step vs the matmul peak", command,
                    loads, extra) + "\n"
            + _table(["model", "tokens", "batch", "GFLOP per step", "step s", "achieved GFLOP/s",
                      "matmul peak GFLOP/s", "fraction of peak"], lines))
    return text, rows


def compiled_train_step(task: str, variant: str, overrides: dict):
    """The train step of ``configs/<task>.py:<variant>`` lowered and compiled, not run."""
    from lra.steps import data_parallel, replicate, train_step

    _, _, state, batch, key, devices = model_and_batch(task, variant, overrides)
    return data_parallel(train_step, devices).lower(replicate(state, devices), batch, key).compile()


def _step_flops(task: str, overrides: dict, variant: str = "transformer") -> float:
    return flops_of(compiled_train_step(task, variant, overrides))


# --- flops ----------------------------------------------------------------------------------------

FLOPS_VARIANTS = ("transformer", "transformer,fixed", "transformer,ada", "transformer,ortho", "transformer,lift")


def run_flops(args, command: str) -> tuple[str, list[dict]]:
    """Compiled (not run) train-step FLOPs of each space vs the Transformer, from XLA's cost analysis.

    Two counts per variant: the default compile, and the same step with full attention unchunked
    (``chunk_size=0``). XLA counts a while loop's body once, so where the default chunks (more than
    1024 queries: the Transformer's n + 1 from 1024 tokens on) its count misses all blocks but one;
    the unchunked count is the true one.
    """
    loads = LoadLog()
    rows, lines = [], []
    for n in args.lengths:
        over = {"max_length": n, "batch_size": args.batch or max(1, args.tokens // n), **args.overrides}
        counts = {}
        for variant in FLOPS_VARIANTS:
            reported = _step_flops(args.task, over, variant)
            true = _step_flops(args.task, {**over, "model.attention.chunk_size": 0}, variant)
            counts[variant] = (reported, true)
            print(f"  {variant} {n}: {reported / 1e9:.1f} / {true / 1e9:.1f} GFLOP", flush=True)
        base = counts["transformer"]
        for variant, (reported, true) in counts.items():
            lines.append([variant, f"{n}", f"{over['batch_size']}", f"{reported / 1e9:.1f}",
                          f"{100 * reported / base[0]:.1f}%", f"{true / 1e9:.1f}", f"{100 * true / base[1]:.1f}%"])
            rows += [_row(f"{n} tokens", variant, "train_flops_default_compile", reported, "FLOP", loads),
                     _row(f"{n} tokens", variant, "train_flops_unchunked", true, "FLOP", loads)]
    extra = ("XLA cost analysis of the compiled train step (AdamW, dropout) at the Text config; nothing is run. "
             "'default compile' is what `compiled.cost_analysis()` reports for the step as configured: where full "
             "attention is chunked (`lax.map` over query blocks, above 1024 queries) XLA counts the loop body once, "
             "so that count is too low; 'unchunked' compiles the same step with `model.attention.chunk_size=0` "
             "(one n x n block), the true count.")
    text = (_header("FLOPs of a train step: each space vs the Transformer (compiled, not run)", command, loads, extra)
            + "\n" + _table(["variant", "tokens", "batch", "GFLOP, default compile", "vs transformer",
                              "GFLOP, unchunked (true)", "vs transformer"], lines))
    return text, rows


SUITES = {"table8": run_table8, "scaling": run_scaling, "transforms": run_transforms, "peer": run_peer,
          "efficiency": run_efficiency, "flops": run_flops}
DEFAULT_LENGTHS = {"table8": [2048, 4096], "scaling": [1024, 2048, 4096, 8192, 16384], "transforms": [4096],
                   "peer": [1024, 4096], "efficiency": [1024], "flops": [1024, 2048]}
