"""Suite ``scaling``: compiled peak memory and step time vs sequence length per model, and the
memory of full attention compiled (not run) at lengths it cannot run at."""

from __future__ import annotations

from lra.bench.measure import LoadLog, interleaved
from lra.bench.models import compiled_train_step, peak_bytes, prepare
from lra.bench.report import entry, header, table
from lra.provenance import ram_gib

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
            rows += [entry(f"{length}", model, "train_step_s", timings[model].median, "s", loads),
                     entry(f"{length}", model, "compiled_train_peak", memory_mib[(model, length)], "MiB", loads)]
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
    text = (header("Scaling: train step time and compiled peak memory vs length", command, loads, extra) + "\n"
            + table(["model"] + [f"{n} tokens" for n in args.lengths] + ["time ratio per doubling"], lines)
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
            + table(["tokens", "unchunked (one n x n block)", "chunked (1024-query blocks, default)"], lines))
