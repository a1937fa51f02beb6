"""Benchmark the wavelet transforms of ``wavspa_flax.wavelets`` against jaxwt and PyWavelets.

Times forward + inverse (wavedec + waverec) along the sequence axis of a (batch, length,
channels) float32 array - the layout inside a WavSpA block - as the median of several runs after
a warm-up (jitted for the JAX libraries). Also times per-channel (AdaWavSpA) filters with their
gradient, and alternative kernels for the per-channel transform (grouped strided convolution,
polyphase convolutions, FFT) against the shift-and-add kernel the library uses.

Usage:
    python scripts/bench_wavelets.py [--batch 8 --length 4096 --channels 256 --reps 5]
                                     [--out results/bench_wavelets_cpu.md]
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pywt
from jax import lax

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import wavspa_flax.wavelets as wl  # noqa: E402

try:
    import jaxwt
except ImportError:  # pragma: no cover - jaxwt is a project dependency
    jaxwt = None


def timed(fn, *args, reps: int) -> float:
    """Median wall time in ms of ``fn(*args)`` (results blocked on) after one warm-up call."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def fixed_rows(x, reps):
    """Shared fixed wavelet, forward + inverse: ours vs jaxwt vs pywt."""
    x_np = np.asarray(x)
    n = x.shape[1]
    rows = []
    for name, level in (("db2", 1), ("db8", 3)):
        for mode in ("periodization", "symmetric"):
            ours = jax.jit(lambda x, name=name, level=level, mode=mode:
                           wl.waverec(wl.wavedec(x, name, level, axis=-2, mode=mode), name, axis=-2, mode=mode,
                                      length=n))
            t_ours = timed(ours, x, reps=reps)
            t_jaxwt = None
            if jaxwt is not None and mode in ("symmetric", "zero", "reflect"):
                peer = jax.jit(lambda x, name=name, mode=mode, level=level:
                               jaxwt.waverec(jaxwt.wavedec(x, name, mode=mode, level=level, axis=-2), name, axis=-2))
                t_jaxwt = timed(peer, x, reps=reps)
            t_pywt = timed(lambda x, name=name, mode=mode, level=level:
                           pywt.waverec(pywt.wavedec(x, name, mode=mode, level=level, axis=-2), name, mode=mode,
                                        axis=-2),
                           x_np, reps=max(1, reps // 2))
            rows.append((f"{name} level {level}", mode, t_ours, t_jaxwt, t_pywt))
    return rows


def per_channel_rows(x, reps):
    """AdaWavSpA: one db8-initialised (256, 16) filter per channel, forward + inverse and gradient."""
    n, channels = x.shape[1], x.shape[2]
    h = wl.init_scaling_filters("wavelet", channels, 16)
    rows = []
    for mode in ("periodization", "symmetric"):

        def transform(h, x, mode=mode):
            bank = wl.qmf_filter_bank(h)
            coeffs = wl.wavedec(x, bank, 1, axis=-2, mode=mode, channel_axis=-1)
            return wl.waverec(coeffs, bank, axis=-2, mode=mode, channel_axis=-1, length=n)

        forward_inverse = jax.jit(transform)
        gradient = jax.jit(jax.grad(lambda h, x: jnp.sum(transform(h, x) ** 2), argnums=(0, 1)))
        rows.append((mode, timed(forward_inverse, h, x, reps=reps), timed(gradient, h, x, reps=reps)))
    return rows


# --- alternative kernels for the per-channel level-1 transform (symmetric mode) --------------------


def _extended(x, length):
    return jnp.pad(x, ((0, 0), (length - 1, length - 1), (0, 0)), mode="symmetric")


def conv_grouped(h, x):
    """Strided grouped convolution (feature_group_count=C) for analysis, transposed for synthesis."""
    bank = wl.qmf_filter_bank(h)
    channels, length = h.shape
    n = x.shape[1]
    m = (n + length - 1) // 2
    # analysis: out[k] = sum_t f[L-1-t] xe[1 + 2k + t]  ->  correlation with the flipped filter
    kernel = jnp.stack([bank.dec_lo[:, ::-1], bank.dec_hi[:, ::-1]], axis=1).reshape(2 * channels, length).T[:, None, :]
    xe = _extended(x, length)[:, 1:]
    out = lax.conv_general_dilated(xe, kernel, (2,), "VALID", dimension_numbers=("NWC", "WIO", "NWC"),
                                   feature_group_count=channels)[:, :m]
    lo, hi = out[..., 0::2], out[..., 1::2]
    # synthesis: x[n] = sum_k c[k] g[n + L - 2 - 2k]  ->  upsample, convolve (flipped correlation)
    bands = jnp.stack([lo, hi], axis=-1).reshape(lo.shape[0], m, 2 * channels)
    rec_kernel = jnp.stack([bank.rec_lo[:, ::-1], bank.rec_hi[:, ::-1]], axis=1).transpose(2, 1, 0)  # (L, 2, C)
    full = lax.conv_general_dilated(bands, rec_kernel, (1,), [(length - 1, length - 1)], lhs_dilation=(2,),
                                    dimension_numbers=("NWC", "WIO", "NWC"), feature_group_count=channels)
    return full[:, length - 2 : length - 2 + n]


def polyphase_conv(h, x):
    """Analysis as two half-length convolutions of the even/odd phases (polyphase), synthesis via
    per-phase convolutions and interleaving; grouped (depthwise) convolutions throughout."""
    bank = wl.qmf_filter_bank(h)
    channels, length = h.shape
    n = x.shape[1]
    m = (n + length - 1) // 2
    xe = _extended(x, length)[:, 1:]
    if xe.shape[1] % 2:
        xe = jnp.pad(xe, ((0, 0), (0, 1), (0, 0)))
    even, odd = xe[:, 0::2], xe[:, 1::2]
    flipped = jnp.stack([bank.dec_lo[:, ::-1], bank.dec_hi[:, ::-1]], axis=1).reshape(2 * channels, length)
    k_even, k_odd = flipped[:, 0::2].T[:, None, :], flipped[:, 1::2].T[:, None, :]
    conv = lambda a, k: lax.conv_general_dilated(a, k, (1,), "VALID", dimension_numbers=("NWC", "WIO", "NWC"),
                                                 feature_group_count=channels)
    out = (conv(even, k_even) + conv(odd, k_odd))[:, :m]
    bands = out.reshape(out.shape[0], m, channels, 2)
    rec = jnp.stack([bank.rec_lo, bank.rec_hi], axis=-1)  # (C, L, 2)
    phases = []
    for r in (0, 1):
        taps = [(j, (r + length - 2 - j) // 2) for j in range(length) if (r + length - 2 - j) % 2 == 0]
        offset = min(q for _, q in taps)
        kernel = jnp.zeros((max(q for _, q in taps) - offset + 1, 2, channels))
        for j, q in taps:
            kernel = kernel.at[q - offset].set(rec[:, j, :].T)
        count = (n - r + 1) // 2
        phases.append(lax.conv_general_dilated(bands.reshape(out.shape[0], m, 2 * channels)[:, offset:], kernel, (1,),
                                               "VALID", dimension_numbers=("NWC", "WIO", "NWC"),
                                               feature_group_count=channels)[:, :count])
    even_out, odd_out = phases
    odd_out = jnp.pad(odd_out, ((0, 0), (0, even_out.shape[1] - odd_out.shape[1]), (0, 0)))
    return jnp.stack([even_out, odd_out], axis=2).reshape(x.shape[0], 2 * even_out.shape[1], channels)[:, :n]


def fft_filtering(h, x):
    """Per-channel filtering by FFT (as the official code did, but linear, not circular): full
    convolutions via rfft of the extended signal, then every other sample; synthesis likewise."""
    bank = wl.qmf_filter_bank(h)
    channels, length = h.shape
    n = x.shape[1]
    m = (n + length - 1) // 2
    xe = _extended(x, length)
    size = xe.shape[1] + length - 1
    spectrum = jnp.fft.rfft(xe, size, axis=1)
    filt = lambda f: jnp.fft.rfft(f.T, size, axis=0)[None]
    lo = jnp.fft.irfft(spectrum * filt(bank.dec_lo), size, axis=1)[:, length : length + 2 * m : 2]
    hi = jnp.fft.irfft(spectrum * filt(bank.dec_hi), size, axis=1)[:, length : length + 2 * m : 2]
    up = lambda c: jnp.stack([c, jnp.zeros_like(c)], axis=2).reshape(c.shape[0], 2 * m, channels)
    size2 = 2 * m + length - 1
    full = jnp.fft.irfft(jnp.fft.rfft(up(lo), size2, axis=1) * jnp.fft.rfft(bank.rec_lo.T, size2, axis=0)[None]
                         + jnp.fft.rfft(up(hi), size2, axis=1) * jnp.fft.rfft(bank.rec_hi.T, size2, axis=0)[None],
                         size2, axis=1)
    return full[:, length - 2 : length - 2 + n]


def kernel_rows(x, reps):
    n, channels = x.shape[1], x.shape[2]
    h = wl.init_scaling_filters("wavelet", channels, 16)

    def shift_and_add(h, x):
        bank = wl.qmf_filter_bank(h)
        return wl.waverec(wl.wavedec(x, bank, 1, axis=-2, channel_axis=-1), bank, axis=-2, channel_axis=-1, length=n)

    reference = np.asarray(jax.jit(shift_and_add)(h, x))
    rows = []
    for label, fn in (("shift-and-add (library)", shift_and_add), ("grouped strided conv", conv_grouped),
                      ("polyphase half-length convs", polyphase_conv), ("FFT", fft_filtering)):
        jitted = jax.jit(fn)
        error = float(np.max(np.abs(np.asarray(jitted(h, x)) - reference)))
        rows.append((label, timed(jitted, h, x, reps=reps), error))
    return rows


def hardware() -> str:
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    return (
        f"processor: {platform.processor() or platform.machine()}, cores: {os.cpu_count()}, "
        f"jax {jax.__version__} backend: {jax.default_backend()} ({jax.devices()[0].device_kind}), "
        f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=4096)
    parser.add_argument("--channels", type=int, default=256)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="also write the tables (markdown) here")
    args = parser.parse_args()

    x = jax.random.normal(jax.random.PRNGKey(0), (args.batch, args.length, args.channels), jnp.float32)
    lines = [
        "# Wavelet transform benchmark",
        "",
        f"- command: `python {' '.join(sys.argv)}`",
        f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
        f"- hardware: {hardware()}",
        f"- shape: (batch {args.batch}, length {args.length}, channels {args.channels}) float32, transform along the "
        f"length axis (-2); median of {args.reps} runs after a warm-up, jitted "
        f"(pywt: numpy, median of {max(1, args.reps // 2)})",
        "",
        "## Fixed wavelet, forward + inverse (wavedec + waverec), ms",
        "",
        "| wavelet | mode | ours | jaxwt | pywt | ours/jaxwt | ours/pywt |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, mode, ours, peer, ref in fixed_rows(x, args.reps):
        ratio = "-" if peer is None else f"{ours / peer:.3f}"
        lines.append(f"| {name} | {mode} | {fmt(ours)} | {fmt(peer)} | {fmt(ref)} | {ratio} | {ours / ref:.3f} |")
    lines.append("")
    lines.append("jaxwt 0.1.1 has no periodization mode (`-`).")
    lines += [
        "",
        f"## Per-channel filters (AdaWavSpA, ({args.channels}, 16) db8-initialised, level 1), ms",
        "",
        "| mode | forward + inverse | gradient w.r.t. filters and input |",
        "| --- | ---: | ---: |",
    ]
    for mode, forward_inverse, gradient in per_channel_rows(x, args.reps):
        lines.append(f"| {mode} | {fmt(forward_inverse)} | {fmt(gradient)} |")
    lines += [
        "",
        "## Kernel alternatives for the per-channel transform (symmetric, L=16, level 1, forward + inverse), ms",
        "",
        "| kernel | ms | max abs difference to the library |",
        "| --- | ---: | ---: |",
    ]
    for label, ms, error in kernel_rows(x, args.reps):
        lines.append(f"| {label} | {fmt(ms)} | {error:.1e} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
