"""What a config costs before it runs: compile (do not run) its train and eval steps and report.

    python -m lra.preflight --config=configs/<task>.py:<attention>[,<space>] [--config.<key>=<value> ...] \\
        [--devices=N] [--device_memory=40GiB] [--peak_tflops=312]

The steps are the training loop's own (:func:`lra.steps.train_step` with the config's gradient
accumulation and key implementation, :func:`lra.steps.eval_step`), compiled for one device at the
config's per-device batch (``batch_size / devices``): a data-parallel step's per-device program is
that one plus its all-reduces. Printed:

* parameters;
* FLOPs per train step from XLA's cost analysis. XLA counts a while loop's body once, so a step
  whose full attention is chunked (``lax.map`` over query blocks) is counted from the same step
  compiled unchunked (``model.attention.chunk_size=0``), as ``lra.bench --suite flops`` does, and a
  step with gradient accumulation (a ``lax.scan``) from the same step without it (same FLOPs);
* per-device memory from XLA's memory analysis of the compiled step: arguments, outputs,
  temporaries and the peak; whether it fits ``--device_memory``; if not, the smallest
  ``grad_accum_steps`` (then ``model.dtype=bfloat16`` with the smallest accumulation) that fits,
  found by compiling those variants;
* with ``--peak_tflops``: a lower bound on the step time (FLOPs / peak).

The numbers are the plan of the backend this runs on (XLA:CPU here): a GPU's compiler fuses and
schedules differently, so its peak differs (``scripts/device_check.py`` measures it on a device).
``python -m lra.preflight --table results/preflight.md`` writes the table of every task's paper
config (rows are kept in ``results/preflight.jsonl``: a rerun computes only missing rows).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import re
import sys
from pathlib import Path

import jax

from lra.bench.measure import hardware
from lra.bench.models import flops_of, peak_bytes
from wavspa_flax.errors import ConfigError, UserError

REPO = Path(__file__).resolve().parents[1]
GIB = 2 ** 30
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 2 ** 10, "m": 1e6, "mb": 1e6, "mib": 2 ** 20,
          "g": 1e9, "gb": 1e9, "gib": GIB, "t": 1e12, "tb": 1e12, "tib": 2 ** 40}


def parse_bytes(text: str) -> int:
    """``'40GiB'`` -> 42949672960; ``'16GB'`` -> 16e9; a plain number is bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ConfigError(f"--device_memory={text!r}: expected a size such as 40GiB, 16GB or 80G")
    return int(float(match.group(1)) * _UNITS[unit])


@dataclasses.dataclass
class Memory:
    """Per-device bytes of one compiled step (XLA's ``memory_analysis``). ``peak`` is arguments +
    outputs + temporaries - aliased (donated) bytes, as ``lra.bench --suite scaling`` reports: XLA:CPU's
    own ``peak_memory_in_bytes`` leaves temporaries out (it can be below ``temp_size_in_bytes``)."""

    arguments: int
    outputs: int
    temporaries: int
    aliased: int
    peak: int

    @classmethod
    def of(cls, compiled) -> Memory:
        stats = compiled.memory_analysis()
        return cls(int(stats.argument_size_in_bytes), int(stats.output_size_in_bytes),
                   int(stats.temp_size_in_bytes), int(stats.alias_size_in_bytes), peak_bytes(compiled))

    def line(self) -> str:
        return (f"arguments {_gib(self.arguments)}, outputs {_gib(self.outputs)}, temporaries "
                f"{_gib(self.temporaries)}, peak {_gib(self.peak)}")


def _gib(n: float) -> str:
    return f"{n / GIB:.3g} GiB" if n >= GIB / 100 else f"{n / 2 ** 20:.3g} MiB"


@dataclasses.dataclass
class Plan:
    """The compiled train and eval steps of one config at its per-device batch."""

    params: int
    per_device_batch: int
    train: Memory
    eval: Memory
    train_flops: float
    flops_exact: bool = True


def _with(config, **dotted):
    """A copy of ``config`` with dotted keys set."""
    from lra.config import update

    copy = config.copy_and_resolve_references()
    update(copy, dotted, "the preflight")
    return copy


def one_device_inputs(config, batch: int):
    """(model, train state, a random batch ``[1, batch, ...]``, the replicated dropout key)."""
    from lra.bench.models import random_batch
    from lra.data import task_info
    from lra.steps import make_key, replicate
    from lra.train import create_train_state
    from wavspa_flax import build_model

    info = task_info(config)
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    state = create_train_state(model, config, info, make_key(0, config.prng_impl))
    device = jax.local_devices()[:1]
    key = replicate(jax.random.key_data(make_key(1, config.prng_impl)), device)
    return model, replicate(state, device), random_batch(info, batch, 1), key


def compile_train(config, per_device_batch: int, inputs=None):
    """The loop's train step of ``config`` compiled (not run) for one device at ``per_device_batch``
    (for ``inputs`` = :func:`one_device_inputs`, which it can then be called with)."""
    from lra.steps import data_parallel, train_step

    _, state, batch, key = inputs or one_device_inputs(config, per_device_batch)
    step = functools.partial(train_step, accum_steps=int(config.grad_accum_steps), prng_impl=config.prng_impl)
    return data_parallel(step, jax.local_devices()[:1], donate_argnums=(0,)).lower(state, batch, key).compile()


def compile_eval(config, per_device_batch: int):
    """The loop's eval step of ``config`` compiled (not run) for one device at ``per_device_batch``."""
    from lra.steps import data_parallel, eval_step

    model, state, batch, _ = one_device_inputs(config, per_device_batch)
    step = functools.partial(eval_step, apply_fn=model.apply)
    return data_parallel(step, jax.local_devices()[:1]).lower(state.params, batch).compile()


# Loops that carry no model FLOPs: the threefry rounds behind key folding (a few scalar ops), and
# a scatter that the backend expands into a loop (XLA:CPU's classic emitters do, for the embedding's
# gradient: one row add per trip).
_NEGLIGIBLE_LOOPS = ("threefry", "scatter")


def has_loop(compiled) -> bool:
    """Whether the compiled program has a while loop of the model (XLA's cost analysis counts a loop
    body once); the loops of ``_NEGLIGIBLE_LOOPS`` are ignored."""
    return any(re.search(r"\bwhile\(", line) and not any(name in line for name in _NEGLIGIBLE_LOOPS)
               for line in compiled.as_text().splitlines())


def counted_flops(config, per_device_batch: int, compiled=None) -> tuple[float, bool]:
    """Train-step FLOPs with the loops counted in full, and whether that count is exact.

    A step with a loop (chunked full attention: ``lax.map``; gradient accumulation: ``lax.scan``) is
    counted from the same step compiled unchunked and without accumulation (same FLOPs, XLA counts a
    loop body once); if a loop remains (another scan), the count is a lower bound (exact=False).
    """
    if compiled is not None and not has_loop(compiled):
        return flops_of(compiled), True
    plain = compile_train(_with(config, grad_accum_steps=1, **{"model.attention.chunk_size": 0}), per_device_batch)
    return flops_of(plain), not has_loop(plain)


def plan(config, devices: int = 1) -> Plan:
    """Compile ``config``'s steps at its per-device batch for ``devices`` devices (nothing runs)."""
    from lra import config as lra_config
    from lra.train import param_count

    lra_config.validate(config, devices)
    batch = int(config.batch_size) // devices
    eval_batch = int(config.eval_batch_size or config.batch_size) // devices
    train = compile_train(config, batch)
    evaluate = compile_eval(config, eval_batch)
    _, state, _, _ = one_device_inputs(config, 1)
    params = param_count(jax.tree.map(lambda x: x[0], state.params))
    return Plan(params, batch, Memory.of(train), Memory.of(evaluate), *counted_flops(config, batch, train))


def _divisors_above_one(n: int) -> list[int]:
    return [k for k in range(2, n + 1) if n % k == 0]


def smallest_fit(config, devices: int, limit: int) -> tuple[dict, Memory] | None:
    """The first change (more accumulation; then bfloat16 with the least accumulation) whose
    compiled train step fits ``limit`` bytes per device, and its memory; None if none does."""
    batch = int(config.batch_size) // devices
    candidates = [{"grad_accum_steps": k} for k in _divisors_above_one(batch)]
    if config.model.dtype != "bfloat16":
        candidates += [{"model.dtype": "bfloat16", "grad_accum_steps": k} for k in [1] + _divisors_above_one(batch)]
    for change in candidates:
        memory = Memory.of(compile_train(_with(config, **change), batch))
        if memory.peak <= limit:
            return change, memory
    return None


def report(config, devices: int = 1, device_memory: int | None = None, peak_tflops: float | None = None) -> str:
    """The preflight's lines for ``config`` (see the module docstring)."""
    p = plan(config, devices)
    lines = [f"{config.task}:{config.variant} scale={config.scale} dtype={config.model.dtype} devices={devices} "
             f"(per-device batch {p.per_device_batch}, grad_accum_steps {config.grad_accum_steps}); "
             f"plan of {jax.devices()[0].platform}",
             f"parameters: {p.params:,}",
             f"train step: {p.train_flops / 1e9:.4g} GFLOP per device"
             f"{'' if p.flops_exact else ' (at least: a loop remains)'}; "
             f"memory per device: {p.train.line()}",
             f"eval step: memory per device: {p.eval.line()}"]
    if device_memory:
        fits = p.train.peak <= device_memory
        line = f"fits {_gib(device_memory)}: {'yes' if fits else 'no'}"
        if not fits:
            found = smallest_fit(config, devices, device_memory)
            line += ("; nothing tried fits (grad_accum_steps up to the per-device batch, bfloat16)" if found is None
                     else "; smallest change that fits: " + " ".join(f"--config.{k}={v}" for k, v in found[0].items())
                     + f" (peak {_gib(found[1].peak)})")
        if p.eval.peak > device_memory:
            line += f"; the eval step does not fit (peak {_gib(p.eval.peak)}): lower --config.eval_batch_size"
        lines.append(line)
    if peak_tflops:
        lines.append(f"step time >= {1e3 * p.train_flops / (peak_tflops * 1e12):.3g} ms at {peak_tflops:g} "
                     "TFLOP/s (FLOPs / peak; memory traffic and the host not counted)")
    return "\n".join(lines)


# --- the table ------------------------------------------------------------------------------------

TABLE_TASKS = ("listops", "text", "retrieval", "image", "pathfinder")
TABLE_ATTENTIONS = ("transformer", "linformer", "linear", "longformer", "performer")
TABLE_SPACES = ("none", "fixed", "ada", "ortho", "lift")
TABLE_FITS = (16, 40, 80)


def table_row(task: str, attention: str, space: str, devices: int, dtype: str) -> dict:
    """One row of the table: the paper config's compiled train step (or the error it raised)."""
    from lra.config import load_config

    variant = attention if space == "none" else f"{attention},{space}"
    row = {"task": task, "variant": variant, "devices": devices, "dtype": dtype}
    try:
        config = load_config(f"{REPO}/configs/{task}.py:{variant}", {"model.dtype": dtype})
        from lra import config as lra_config

        lra_config.validate(config, devices)
        batch = int(config.batch_size) // devices
        compiled = compile_train(config, batch)
        memory = Memory.of(compiled)
        flops, exact = counted_flops(config, batch, compiled)
        row.update(batch=batch, peak=memory.peak, flops=flops, flops_exact=exact)
    except Exception as error:  # a config that cannot compile is a row saying so
        row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:160]}"
    return row


def _fits(peak: int) -> str:
    """The smallest of :data:`TABLE_FITS` GiB that holds ``peak`` bytes."""
    sizes = [g for g in TABLE_FITS if peak <= g * GIB]
    return f"{sizes[0]} GiB" if sizes else f"none (> {TABLE_FITS[-1]} GiB)"


def render_table(rows: list[dict]) -> str:
    lines = ["| task | variant | devices | dtype | per-device batch | peak GiB | GFLOP/step per device | "
             "fits (16/40/80 GiB) |", "|---|---|---|---|---|---|---|---|"]
    order = {t: i for i, t in enumerate(TABLE_TASKS)}
    for r in sorted(rows, key=lambda r: (order.get(r["task"], 99), r["variant"], r["devices"], r["dtype"])):
        if "error" in r:
            lines.append(f"| {r['task']} | {r['variant']} | {r['devices']} | {r['dtype']} | | | | "
                         f"error: {r['error']} |")
        else:
            lines.append(f"| {r['task']} | {r['variant']} | {r['devices']} | {r['dtype']} | {r['batch']} | "
                         f"{r['peak'] / GIB:.2f} | {r['flops'] / 1e9:.1f} | {_fits(r['peak'])} |")
    return "\n".join(lines) + "\n"


def write_table(out: Path, tasks, attentions, spaces, devices_list, dtypes) -> Path:
    """Compute the missing rows (kept in ``<out>.jsonl``) and rewrite ``out`` from all rows."""
    store = out.with_suffix(".jsonl")
    rows = [json.loads(line) for line in store.read_text().splitlines()] if store.exists() else []
    done = {(r["task"], r["variant"], r["devices"], r["dtype"]) for r in rows}
    for task in tasks:
        for attention in attentions:
            for space in spaces:
                for devices in devices_list:
                    for dtype in dtypes:
                        variant = attention if space == "none" else f"{attention},{space}"
                        if (task, variant, devices, dtype) in done:
                            continue
                        row = table_row(task, attention, space, devices, dtype)
                        row["date"] = datetime.date.today().isoformat()
                        rows.append(row)
                        with open(store, "a") as handle:
                            handle.write(json.dumps(row) + "\n")
                        print(json.dumps(row), flush=True)
    grid = len(TABLE_TASKS) * len(TABLE_ATTENTIONS) * len(TABLE_SPACES) * 2 * 2
    out.write_text(TABLE_HEADER.format(hardware=hardware(), count=len(rows), grid=grid) + render_table(rows))
    return out


TABLE_HEADER = """# Preflight: memory and FLOPs of every task's paper config (compiled, not run)

Written by `python -m lra.preflight --table results/preflight.md [--tasks ...] [--attentions ...]
[--spaces ...] [--table_devices 1 8] [--dtypes float32 bfloat16]`; rows are kept in
`results/preflight.jsonl` and a rerun compiles only the missing ones: {count} of the {grid} rows of the
full grid (5 tasks x 5 attentions x 5 spaces x 1/8 devices x float32/bfloat16) so far. On the
2-core CPU shared with other jobs a paper-scale row took 5-15 minutes of compiling, so the rest is
left to `python -m lra.preflight --table results/preflight.md` on a quieter machine (or a GPU
host: the plan is then that backend's).

Each row is the Table 6 config (`scale=paper`) of the task and variant, its train step (AdamW,
dropout, the loop's `lra.steps.train_step`) compiled for one device at the per-device batch
(`batch_size / devices`). **Peak** is XLA's memory analysis of the compiled step (arguments +
outputs + temporaries at the peak); **GFLOP** is XLA's cost analysis with the chunked attention
loop counted in full (the step compiled unchunked). **These are XLA:CPU's compiled plans**: a GPU's
or TPU's compiler fuses, rematerialises and pads differently, so their peaks differ;
`scripts/device_check.py` compares the plan with a device's measured `memory_stats()` peak once a
device is available (not measured yet). "fits" names the smallest of 16/40/80 GiB that holds the peak.

Hardware of the compiles: {hardware}

"""


def _parse(argv: list[str]):
    parser = argparse.ArgumentParser(prog="python -m lra.preflight", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="configs/<task>.py:<attention>[,<space>]")
    parser.add_argument("--devices", type=int, default=1, help="data-parallel devices (the batch is split over them)")
    parser.add_argument("--device_memory", default=None, help="bytes per device, e.g. 40GiB")
    parser.add_argument("--peak_tflops", type=float, default=None, help="accelerator peak, for a step-time bound")
    parser.add_argument("--table", default=None, help="write the paper-config table to this markdown file")
    parser.add_argument("--tasks", nargs="+", default=list(TABLE_TASKS))
    parser.add_argument("--attentions", nargs="+", default=list(TABLE_ATTENTIONS))
    parser.add_argument("--spaces", nargs="+", default=list(TABLE_SPACES))
    parser.add_argument("--table_devices", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    args, rest = parser.parse_known_args(argv)
    overrides = {}
    for item in rest:
        match = re.fullmatch(r"--config\.([\w.]+)=(.*)", item)
        if not match:
            raise ConfigError(f"unknown argument {item!r}; overrides are --config.<key>=<value>")
        overrides[match.group(1)] = match.group(2)
    return args, overrides


def _typed(config, overrides: dict[str, str]) -> dict:
    """Override strings converted to the type of the config's current value (as the train command does)."""
    out = {}
    for dotted, text in overrides.items():
        node = config
        for part in dotted.split(".")[:-1]:
            node = node.get(part) if hasattr(node, "get") else None
        current = node.get(dotted.split(".")[-1]) if hasattr(node, "get") else None
        if isinstance(current, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ConfigError(f"--config.{dotted}={text!r}: expected true or false")
            out[dotted] = text.lower() in ("true", "1")
        elif isinstance(current, (int, float)):
            try:
                out[dotted] = type(current)(text)
            except ValueError:
                raise ConfigError(f"--config.{dotted}={text!r}: expected a {type(current).__name__}") from None
        else:
            out[dotted] = text  # strings, and unknown keys (load_config names them)
    return out


def main(argv: list[str] | None = None) -> int:
    from lra.config import load_config

    args, overrides = _parse(sys.argv[1:] if argv is None else argv)
    if args.table:
        write_table(Path(args.table), args.tasks, args.attentions, args.spaces, args.table_devices, args.dtypes)
        print(f"wrote {args.table}")
        return 0
    if not args.config:
        raise ConfigError("--config is required: --config=configs/<task>.py:<attention>[,<space>]")
    base = load_config(args.config)
    config = load_config(args.config, _typed(base, overrides))
    limit = parse_bytes(args.device_memory) if args.device_memory else None
    try:
        print(report(config, args.devices, limit, args.peak_tflops))
    except UserError:
        raise
    except Exception as error:  # a config that cannot compile: one line, not a traceback
        raise CompileError(f"{config.task}:{config.variant} does not compile: {type(error).__name__}: "
                           f"{str(error).strip().splitlines()[0][:300]}") from error
    return 0


class CompileError(UserError):
    """The config's step failed to lower or compile."""


if __name__ == "__main__":
    from lra.cli import run_main

    run_main(main)
