"""Suite ``kernels``: kernels for the per-channel (AdaWavSpA) level-1 transform, forward + inverse
in symmetric mode: the shift-and-add kernel the library uses (``wavspa_flax/wavelets/_conv.py``)
against a grouped strided convolution, polyphase half-length convolutions and FFT filtering, each
checked against the library's result."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import wavspa_flax.wavelets as wl
from lra.bench.measure import LoadLog, interleaved
from lra.bench.report import entry, header, table


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


def shift_and_add(h, x):
    """The library's per-channel transform: wavedec + waverec, level 1, symmetric mode."""
    bank = wl.qmf_filter_bank(h)
    n = x.shape[1]
    return wl.waverec(wl.wavedec(x, bank, 1, axis=-2, channel_axis=-1), bank, axis=-2, channel_axis=-1, length=n)


KERNELS = {"shift-and-add (library)": shift_and_add, "grouped strided conv": conv_grouped,
           "polyphase half-length convs": polyphase_conv, "FFT": fft_filtering}


def run_kernels(args, command: str) -> tuple[str, list[dict]]:
    loads = LoadLog()
    b, n, c = args.batch or 8, args.lengths[0], args.channels
    x = jax.random.normal(jax.random.PRNGKey(0), (b, n, c), jnp.float32)
    h = wl.init_scaling_filters("wavelet", c, args.filter_length)
    jitted = {label: jax.jit(fn) for label, fn in KERNELS.items()}
    reference = np.asarray(jitted["shift-and-add (library)"](h, x))
    errors = {label: float(np.max(np.abs(np.asarray(fn(h, x)) - reference))) for label, fn in jitted.items()}
    timings = interleaved({label: functools.partial(fn, h, x) for label, fn in jitted.items()}, args.reps, loads)
    base = timings["shift-and-add (library)"].median
    lines, rows = [], []
    for label, t in timings.items():
        lines.append([label, f"{1e3 * t.median:.1f}", f"{t.median / base:.2f}x", f"{errors[label]:.1e}"])
        rows.append(entry("kernels", label, "forward_inverse_ms", 1e3 * t.median, "ms", loads))
        rows.append(entry("kernels", label, "max_abs_difference", errors[label], "", loads))
    extra = (f"Shape ({b}, {n}, {c}) float32, ({c}, {args.filter_length}) per-channel filters (db8-initialised), "
             "level 1, symmetric mode, forward + inverse along the sequence axis, jitted.")
    text = (header("Kernels of the per-channel transform", command, loads, extra) + "\n"
            + table(["kernel", "ms", "x library", "max abs difference to the library"], lines))
    return text, rows
