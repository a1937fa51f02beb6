"""Suite ``transforms``: our DWT vs jaxwt vs pywt; learned filter banks forward+inverse and
gradients. jaxwt (EUPL, the ``dev`` extra only) is a comparison peer imported only here; without
it its column is ``-``."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from lra.bench.measure import LoadLog, interleaved
from lra.bench.report import entry, header, table


def run_transforms(args, command: str) -> tuple[str, list[dict]]:
    import pywt

    import wavspa_flax.wavelets as wl

    try:
        import jaxwt
    except ImportError:  # the dev extra is not installed: the jaxwt column is '-'
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
                    rows.append(entry("fixed", f"{name} L{level} {mode}", f"{who}_forward_inverse_ms", v, "ms", loads))
    for label in banks:
        base = timings[("learned", label, "forward+inverse")].median
        for what in ("forward+inverse", "forward+inverse, constant filters", "gradient w.r.t. input only",
                     "gradient w.r.t. filters and input"):
            t = timings[("learned", label, what)]
            learned_lines.append([label, what, f"{1e3 * t.median:.1f}", f"{t.median / base:.2f}x"])
            rows.append(entry("learned", label, what, 1e3 * t.median, "ms", loads))
        # What the filter gradients add: the two gradients differ only by them (same forward, same
        # input adjoint). By FLOPs they are one more pass of the size of forward+inverse (a correlation
        # per filter and tap), so a whole gradient costs at least ~3x forward+inverse.
        added = (timings[("learned", label, "gradient w.r.t. filters and input")].median
                 - timings[("learned", label, "gradient w.r.t. input only")].median)
        learned_lines.append([label, "filter gradients alone (difference of the two gradients)",
                              f"{1e3 * added:.1f}", f"{added / base:.2f}x"])
        rows.append(entry("learned", label, "filter gradients alone", 1e3 * added, "ms", loads))
    extra = (f"Shape ({b}, {n}, {c}) float32, transform along the sequence axis (-2); jitted (pywt: numpy); "
             f"learned banks: ({c}, {length}) per-channel filters, level 1, periodization; gradients of "
             "sum(reconstruction^2).")
    text = (header("Transforms: our DWT vs jaxwt vs pywt, learned filter banks", command, loads, extra) + "\n"
            + "Fixed wavelet, forward + inverse, ms:\n\n"
            + table(["wavelet", "mode", "ours", "jaxwt", "pywt", "ours/jaxwt", "ours/pywt"], fixed_lines)
            + "\njaxwt 0.1.1 has no periodization mode (`-`).\n\nLearned filter banks, ms (x = multiple of the "
            "learned forward+inverse):\n\n" + table(["bank", "what", "ms", "x fwd+inv"], learned_lines)
            + "\nThe filter gradients are one correlation per filter and tap: as many FLOPs as forward+inverse, so a "
            "gradient w.r.t. filters and input costs at least ~3x forward+inverse (forward, input adjoint, filter "
            "adjoint); the row 'filter gradients alone' is what they add.\n")
    return text, rows
