"""Model benchmark: forward+backward / forward time and compiled memory per (attention, space).

Table 8 style: for each attention and sequence length, every space's time as a percentage of the
same attention in the input space ('none' = 100%), side by side, plus the compiled peak memory
(``Compiled.memory_analysis()``: arguments + outputs + temporaries). A final check compiles
(does not run) full attention at 16K tokens and reports its memory, chunked vs unchunked.

    python scripts/bench_models.py                        # full attention x {none, fixed, ada, ortho, lift}, 1K and 4K
    python scripts/bench_models.py --attentions full,performer,linformer --lengths 1024 \\
        --spaces none,fixed,ada,ortho,lift,fourier --width 64 --reps 3

The model is ``build_model`` (classification, CLS readout, sinusoidal positions) with
``--layers`` blocks of width ``--width``, ``qkv_dim = width``, 1 head; spaces use the paper's
text-task settings (fixed: 2-D db2 level 1; ada: L=16; ortho: L=16; lift: 3 levels). Times are
medians over ``--reps`` runs after one warm-up run, in milliseconds, on whatever devices JAX sees
(CPU here; other processes sharing the cores inflate them - compare ratios within one run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from wavspa_flax import build_model, default_model_config  # noqa: E402

SPACE_SETTINGS = {  # the paper's text-task settings (Table 6, A.4)
    "fixed": dict(wavelet="db2", level=1, dims="2d"),
    "ada": dict(wavelet_length=16, level=1),
    "ortho": dict(wavelet_length=16, level=1),
    "lift": dict(level=3),
    "linear": dict(wavelet="db2", level=1),
}


def model_config(attention: str, space: str, width: int, layers: int, chunk_size: int, dtype: str,
                 attention_dropout: float = 0.1):
    cfg = default_model_config()
    cfg.attention_dropout = attention_dropout
    cfg.num_layers, cfg.emb_dim, cfg.qkv_dim, cfg.mlp_dim, cfg.num_heads = layers, width, width, 2 * width, 1
    cfg.dtype = dtype
    cfg.attention.kind = attention
    cfg.attention.chunk_size = chunk_size
    cfg.space.kind = space
    for key, value in SPACE_SETTINGS.get(space, {}).items():
        cfg.space[key] = value
    return cfg


def compiled_steps(cfg, n: int, batch: int):
    """Compiled (fwd+bwd, fwd) functions, their arguments, and fwd+bwd memory statistics."""
    model = build_model(cfg, vocab_size=256, num_classes=2, max_length=n, task_kind="classification")
    inputs = jnp.asarray(np.random.default_rng(0).integers(1, 256, size=(batch, n)), jnp.int32)
    lengths = jnp.full((batch,), n, jnp.int32)
    params = jax.jit(model.init)(jax.random.PRNGKey(0), inputs, lengths)["params"]
    rng = jax.random.PRNGKey(1)

    def loss(p):
        logits = model.apply({"params": p}, inputs, lengths, train=True, rngs={"dropout": rng})
        return jnp.mean(jax.nn.log_softmax(logits)[:, 0])

    train = jax.jit(jax.grad(loss)).lower(params).compile()
    infer = jax.jit(lambda p: model.apply({"params": p}, inputs, lengths)).lower(params).compile()
    return train, infer, params


def peak_bytes(compiled) -> int:
    stats = compiled.memory_analysis()
    return int(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
               - stats.alias_size_in_bytes)


def median_ms(fn, arg, reps: int) -> float:
    jax.block_until_ready(fn(arg))  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        jax.block_until_ready(fn(arg))
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def bench(args):
    print(f"devices: {jax.devices()}  width={args.width} layers={args.layers} batch={args.batch} "
          f"dtype={args.dtype} reps={args.reps} chunk_size={args.chunk_size} "
          f"attention_dropout={args.attention_dropout} prng={jax.config.jax_default_prng_impl}")
    print(f"load average at start: {os.getloadavg()}")
    for attention in args.attentions.split(","):
        for n in args.lengths:
            rows = []
            for space in args.spaces.split(","):
                cfg = model_config(attention, space, args.width, args.layers, args.chunk_size, args.dtype,
                                   args.attention_dropout)
                train, infer, params = compiled_steps(cfg, n, args.batch)
                rows.append((space, median_ms(train, params, args.reps), median_ms(infer, params, args.reps),
                             peak_bytes(train) / 2 ** 20))
            base = {r[0]: r for r in rows}.get("none", rows[0])
            print(f"\n== attention={attention}  n={n} ==")
            print(f"{'space':<16}{'fwd+bwd ms':>12}{'train %':>9}{'fwd ms':>10}{'infer %':>9}{'peak MiB':>10}")
            for space, t_train, t_infer, mem in rows:
                print(f"{space:<16}{t_train:>12.1f}{100 * t_train / base[1]:>8.1f}%{t_infer:>10.1f}"
                      f"{100 * t_infer / base[2]:>8.1f}%{mem:>10.1f}")
    if args.check_16k:
        check_16k(args)


def check_16k(args):
    """Compile (not run) full-attention fwd+bwd at 16K tokens: compiled memory, chunked vs not."""
    n = 16384
    print(f"\n== full attention at n={n} (compiled, not run), width={args.width}, batch 1 ==")
    for chunk in (0, args.chunk_size):
        cfg = model_config("full", "none", args.width, 1, chunk, args.dtype)
        model = build_model(cfg, vocab_size=256, num_classes=2, max_length=n, task_kind="classification")
        inputs = jax.ShapeDtypeStruct((1, n), jnp.int32)
        lengths = jax.ShapeDtypeStruct((1,), jnp.int32)
        params = jax.eval_shape(model.init, jax.random.PRNGKey(0), inputs, lengths)["params"]

        def loss(p, x, lens, model=model):  # binds this iteration's model (B023)
            logits = model.apply({"params": p}, x, lens, train=True, rngs={"dropout": jax.random.PRNGKey(1)})
            return jnp.mean(logits)

        start = time.perf_counter()
        compiled = jax.jit(jax.grad(loss)).lower(params, inputs, lengths).compile()
        label = "unchunked (one n x n block)" if chunk == 0 else f"chunked, {chunk}-query blocks"
        print(f"{label:<34} peak {peak_bytes(compiled) / 2 ** 30:7.2f} GiB   "
              f"(compile {time.perf_counter() - start:.1f} s)")
    print(f"one float32 n x n logits matrix alone: {(n + 1) ** 2 * 4 / 2 ** 30:.2f} GiB")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attentions", default="full")
    parser.add_argument("--spaces", default="none,fixed,ada,ortho,lift")
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--attention-dropout", type=float, default=0.1,
                        help="0.1 = the paper's setting; its random bits (n^2 per band for softmax "
                             "attention) are a large share of CPU training time")
    parser.add_argument("--prng", default="threefry2x32", choices=["threefry2x32", "rbg", "unsafe_rbg"],
                        help="jax_default_prng_impl for the dropout masks")
    parser.add_argument("--no-check-16k", dest="check_16k", action="store_false")
    args = parser.parse_args(argv)
    jax.config.update("jax_default_prng_impl", args.prng)
    bench(args)


if __name__ == "__main__":
    main()
