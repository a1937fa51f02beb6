"""Suite ``table8``: the paper's Table 8 on our code: train-step and inference latency of every
wavelet space as % of the same attention in the original space, and the added parameters."""

from __future__ import annotations

import json

from lra.bench.measure import LoadLog, interleaved
from lra.bench.models import prepare
from lra.bench.report import entry, header, table

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
            rows += [entry(section, variant, "train_step_s", train.median, "s", loads),
                     entry(section, variant, "train_latency", ratio_t, "% of same attention, original space", loads),
                     entry(section, variant, "train_latency_cpu", ratio_cpu, "% (process CPU time)", loads),
                     entry(section, variant, "eval_step_s", evaluate.median, "s", loads),
                     entry(section, variant, "inference_latency", ratio_e, "% of same attention, original space",
                           loads),
                     entry(section, variant, "wavelet_params", p.wavelet_params, "parameters", loads),
                     entry(section, variant, "added_params", added, "parameters (all, incl. per-band attention)",
                           loads),
                     entry(section, variant, "compiled_train_peak", p.memory_bytes / 2 ** 20, "MiB", loads)]
        sections.append(f"### {length} tokens, batch {batch} ({args.reps} interleaved rounds)\n\n" + table(
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
    return header(title, command, loads, extra) + "\n" + "\n".join(sections), rows
