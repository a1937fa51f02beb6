"""Suite ``flops``: compiled train-step FLOPs per space (nothing runs)."""

from __future__ import annotations

from lra.bench.measure import LoadLog
from lra.bench.models import step_flops
from lra.bench.report import entry, header, table

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
            reported = step_flops(args.task, over, variant)
            true = step_flops(args.task, {**over, "model.attention.chunk_size": 0}, variant)
            counts[variant] = (reported, true)
            print(f"  {variant} {n}: {reported / 1e9:.1f} / {true / 1e9:.1f} GFLOP", flush=True)
        base = counts["transformer"]
        for variant, (reported, true) in counts.items():
            lines.append([variant, f"{n}", f"{over['batch_size']}", f"{reported / 1e9:.1f}",
                          f"{100 * reported / base[0]:.1f}%", f"{true / 1e9:.1f}", f"{100 * true / base[1]:.1f}%"])
            rows += [entry(f"{n} tokens", variant, "train_flops_default_compile", reported, "FLOP", loads),
                     entry(f"{n} tokens", variant, "train_flops_unchunked", true, "FLOP", loads)]
    extra = ("XLA cost analysis of the compiled train step (AdamW, dropout) at the Text config; nothing is run. "
             "'default compile' is what `compiled.cost_analysis()` reports for the step as configured: where full "
             "attention is chunked (`lax.map` over query blocks, above 1024 queries) XLA counts the loop body once, "
             "so that count is too low; 'unchunked' compiles the same step with `model.attention.chunk_size=0` "
             "(one n x n block), the true count.")
    text = (header("FLOPs of a train step: each space vs the Transformer (compiled, not run)", command, loads, extra)
            + "\n" + table(["variant", "tokens", "batch", "GFLOP, default compile", "vs transformer",
                              "GFLOP, unchunked (true)", "vs transformer"], lines))
    return text, rows
