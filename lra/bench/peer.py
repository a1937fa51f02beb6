"""Suite ``peer``: spectrans 0.1.0's WaveletTransformer (its own venv,
``scripts/setup_spectrans_peer.sh``) vs our ``wavelet_mixing`` and our no-mixer floor at equal config."""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

from lra.bench.measure import LoadLog, Timing, interleaved
from lra.bench.report import entry, header, table
from lra.provenance import REPO


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
        rows += [entry(f"{n}", "ours wavelet_mixing", "fwd_bwd_s", mix, "s", loads),
                 entry(f"{n}", "ours no-mixer floor", "fwd_bwd_s", floor, "s", loads),
                 entry(f"{n}", "spectrans 0.1.0 WaveletTransformer", "fwd_bwd_s", peer, "s", loads),
                 entry(f"{n}", "speed-up", "spectrans/ours", peer / mix, "x", loads),
                 entry(f"{n}", "mixer overhead", "ours/floor-1", 100 * (mix / floor - 1), "%", loads)]
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
    text = (header("Peer: spectrans 0.1.0 WaveletTransformer vs our wavelet_mixing", command, loads, extra) + "\n"
            + table(["tokens", "ours wavelet_mixing s", "ours no-mixer floor s", "mixer over floor",
                      "spectrans s", "spectrans / ours", "goals"], lines))
    return text, rows
