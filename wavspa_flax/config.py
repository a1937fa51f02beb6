"""The model config (``config.model`` of every training config) and its validation.

:func:`default_model_config` returns an ``ml_collections.ConfigDict`` whose field names are fixed
(the task configs in ``configs/`` write them); fields marked *added* extend the lead's list.
:func:`validate_model_config` is called by :func:`wavspa_flax.build_model` and raises a
``ValueError`` naming the key, the bad value and the valid choices.

Fields
------
``mixer``               'attention' (attention inside ``space``) | 'wavelet_mixing' | 'fnet'
                        (attention-free baselines, :mod:`wavspa_flax.mixers`).
``num_layers, emb_dim, qkv_dim, mlp_dim, num_heads``   Table 6 sizes; ``qkv_dim`` is split over
                        the heads (``qkv_dim % num_heads == 0``).
``dropout``             on the embeddings, each sublayer output and inside the MLP.
``attention_dropout``   on the attention probabilities (softmax attentions only).
``position``            'learned' | 'sinusoidal' | 'rope' | 'none' (:mod:`wavspa_flax.position`).
``norm``                'pre' (LRA, default) | 'post' | 'wavspa_official' (:mod:`wavspa_flax.encoder`).
``readout``             'CLS' (a learned token is prepended) | 'CLS2' (first + last valid token,
                        no token prepended, as the official code) | 'MEAN' (mask-aware).
``dual_interaction``    'nli' -> [u, v, u*v, u-v] | 'concat' -> [u, v].
``dtype``               compute dtype 'float32' | 'bfloat16' (params stay float32; softmax,
                        normalisation and the logits are float32).
``mlp_activation``      *added*: 'gelu' (LRA / official MlpBlock) | 'relu'.

``attention.kind``      'full' | 'linformer' | 'linear' | 'longformer' | 'performer' | 'identity'
                        | 'linear_map' (see :mod:`wavspa_flax.attention`).
``attention.performer_kernel``  'generalized' (default; the official code's kernel: ReLU(x)+1e-3,
                        no random features) | 'favor' (FAVOR+ positive orthogonal random features).
``attention.num_features``      FAVOR+ random features (256 text, 512 image tasks, A.4).
``attention.linformer_k``       Linformer projected length k.
``attention.window``            Longformer total window (keys with -window/2 < j-i <= window/2).
``attention.num_global_tokens`` Longformer global tokens (the first positions of the sequence).
``attention.use_bias``          *added*: bias on the q/k/v/out projections (official: False).
``attention.chunk_size``        *added*: full attention runs query blocks of this size (memory
                        O(chunk * n), recomputed in the backward pass) when n > chunk_size;
                        0 = never chunk.
``attention.full_impl``         *added*: 'auto' (einsum, or chunked above chunk_size) | 'einsum'
                        | 'chunked' | 'dot_product_attention' (``jax.nn.dot_product_attention``:
                        fused kernels on GPU; it has no attention dropout).
``attention.performer_seed``    *added*: seed of the fixed FAVOR+ projection (not a parameter).

``space.kind``          'none' | 'fixed' | 'ada' | 'ortho' | 'lift' | 'fourier' | 'fourier_forward'
                        | 'linear' (see :mod:`wavspa_flax.spaces`).
``space.wavelet, space.level``  fixed / linear space wavelet (pywt name) and level; ``level`` is
                        also the decomposition depth of ada, ortho and lift.
``space.mode``          boundary mode of the wavelet transforms; default 'periodization' gives
                        bands of exactly ceil(n / 2^j) (A.6: 4096 -> 2048, 1024, 512, 512).
``space.dims``          '2d' (fixed/linear: db2 over sequence and hidden, the paper's text;
                        fourier: 2-D FFT) | '1d' (per-channel along the sequence; the official
                        code's fixed transform; fourier: rFFT along the sequence).
``space.layout``        'per_band' (own attention weights per band, official) | 'per_band_shared'
                        | 'joint' (bands concatenated along the sequence, one attention).
``space.wavelet_length``        ada: filter length L; ortho: L (L/2 lattice angles).
``space.init``          ada initialiser 'wavelet' | 'gaussian' | 'damped_cos' (Table 11).
``space.init_wavelet``  *added*: ada 'wavelet' init; '' -> db{L/2} (the official code).
``space.ortho_init``    *added*: 'uniform' (angles U[0, 2pi), the official code) | 'wavelet'
                        (the lattice angles of db{L/2}).
``space.ortho_lowpass``  *added*: False (official: raw lattice filter, orthogonal but not forced
                        low-pass) | True (angles shifted to sum pi/4: filter sums to sqrt 2).
``space.lifting_learnable``     learnable lifting predict/update filters (off: LeGall 5/3, 0 params).
``space.lifting_filter_length`` *added*: taps of each learnable lifting filter.

``mixing.mode``         wavelet_mixing: 'pointwise' | 'channel' | 'level' (:mod:`wavspa_flax.mixers`).
``mixing.wavelet``      *added*: wavelet of the mixing block (boundary from ``space.mode``).
``mixing.level``        *added*: its decomposition levels.
"""

from __future__ import annotations

import jax.numpy as jnp
import ml_collections

MIXERS = ("attention", "wavelet_mixing", "fnet")
POSITIONS = ("learned", "sinusoidal", "rope", "none")
NORMS = ("pre", "post", "wavspa_official")
READOUTS = ("CLS", "CLS2", "MEAN")
INTERACTIONS = ("nli", "concat")
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}
ACTIVATIONS = ("gelu", "relu")
PERFORMER_KERNELS = ("generalized", "favor")
FULL_IMPLS = ("auto", "einsum", "chunked", "dot_product_attention")
DIMS = ("1d", "2d")
LAYOUTS = ("per_band", "per_band_shared", "joint")
ADA_INITS = ("wavelet", "gaussian", "damped_cos")
ORTHO_INITS = ("uniform", "wavelet")
MIXING_MODES = ("pointwise", "channel", "level")
TASK_KINDS = ("classification", "dual", "token")


def default_model_config() -> ml_collections.ConfigDict:
    """The model defaults (small LRA-like sizes); task configs overwrite them (Table 6)."""
    c = ml_collections.ConfigDict()
    c.mixer = "attention"
    c.num_layers = 2
    c.emb_dim = 128
    c.qkv_dim = 64
    c.mlp_dim = 128
    c.num_heads = 1
    c.dropout = 0.1
    c.attention_dropout = 0.1
    c.position = "sinusoidal"
    c.norm = "pre"
    c.readout = "CLS"
    c.dual_interaction = "nli"
    c.dtype = "float32"
    c.mlp_activation = "gelu"

    c.attention = ml_collections.ConfigDict()
    c.attention.kind = "full"
    c.attention.performer_kernel = "generalized"
    c.attention.num_features = 256
    c.attention.linformer_k = 128
    c.attention.window = 512
    c.attention.num_global_tokens = 1
    c.attention.use_bias = False
    c.attention.chunk_size = 1024
    c.attention.full_impl = "auto"
    c.attention.performer_seed = 0

    c.space = ml_collections.ConfigDict()
    c.space.kind = "none"
    c.space.wavelet = "db2"
    c.space.level = 1
    c.space.mode = "periodization"
    c.space.dims = "2d"
    c.space.layout = "per_band"
    c.space.wavelet_length = 40
    c.space.init = "wavelet"
    c.space.init_wavelet = ""
    c.space.ortho_init = "uniform"
    c.space.ortho_lowpass = False
    c.space.lifting_learnable = False
    c.space.lifting_filter_length = 2

    c.mixing = ml_collections.ConfigDict()
    c.mixing.mode = "pointwise"
    c.mixing.wavelet = "db2"
    c.mixing.level = 1
    return c


def _choice(cfg, key: str, valid) -> None:
    value = cfg
    for part in key.split("."):
        value = value[part]
    if value not in valid:
        raise ValueError(
            f"config.model.{key} = {value!r} is not valid; expected one of {tuple(valid)} "
            f"(wavspa_flax/config.py; set --config.model.{key}=...)"
        )


def _positive(cfg, key: str, minimum: int = 1) -> None:
    value = cfg
    for part in key.split("."):
        value = value[part]
    if not isinstance(value, int) or value < minimum:
        raise ValueError(
            f"config.model.{key} = {value!r} must be an integer >= {minimum} (wavspa_flax/config.py)"
        )


def compute_dtype(cfg) -> jnp.dtype:
    """``cfg.dtype`` name -> jnp dtype."""
    _choice(cfg, "dtype", DTYPES)
    return DTYPES[cfg.dtype]


def validate_model_config(cfg, task_kind: str) -> None:
    """Raise ``ValueError`` for unknown names or inconsistent sizes (names the key and the fix).

    Registry names (attention / space kinds) are checked against the registries themselves, so a
    kind added there is valid here without editing this file.
    """
    from wavspa_flax.attention import ATTENTIONS
    from wavspa_flax.spaces import SPACES

    if task_kind not in TASK_KINDS:
        raise ValueError(f"task_kind={task_kind!r} is not valid; expected one of {TASK_KINDS}")
    for key, valid in (
        ("mixer", MIXERS), ("position", POSITIONS), ("norm", NORMS), ("readout", READOUTS),
        ("dual_interaction", INTERACTIONS), ("dtype", DTYPES), ("mlp_activation", ACTIVATIONS),
        ("attention.kind", ATTENTIONS), ("attention.performer_kernel", PERFORMER_KERNELS),
        ("attention.full_impl", FULL_IMPLS), ("space.kind", SPACES), ("space.dims", DIMS),
        ("space.layout", LAYOUTS), ("space.init", ADA_INITS), ("space.ortho_init", ORTHO_INITS),
        ("mixing.mode", MIXING_MODES),
    ):
        _choice(cfg, key, valid)
    for key in ("num_layers", "emb_dim", "qkv_dim", "mlp_dim", "num_heads", "attention.num_features",
                "attention.linformer_k", "attention.window", "space.level", "space.wavelet_length",
                "space.lifting_filter_length", "mixing.level"):
        _positive(cfg, key)
    _positive(cfg, "attention.num_global_tokens", 0)
    _positive(cfg, "attention.chunk_size", 0)
    for key in ("dropout", "attention_dropout"):
        if not 0.0 <= float(cfg[key]) < 1.0:
            raise ValueError(f"config.model.{key} = {cfg[key]!r} must be in [0, 1)")
    if cfg.qkv_dim % cfg.num_heads:
        raise ValueError(
            f"config.model.qkv_dim = {cfg.qkv_dim} is not divisible by num_heads = {cfg.num_heads}; "
            "each head gets qkv_dim / num_heads features"
        )
    head_dim = cfg.qkv_dim // cfg.num_heads
    if cfg.position == "sinusoidal" and cfg.emb_dim % 2:
        raise ValueError(f"config.model.position='sinusoidal' needs an even emb_dim (got {cfg.emb_dim})")
    if cfg.position == "rope":
        if head_dim % 2:
            raise ValueError(
                f"config.model.position='rope' needs an even head dimension qkv_dim/num_heads (got {head_dim})"
            )
        if cfg.mixer != "attention" or cfg.attention.kind in ("identity", "linear_map") or (
            cfg.space.kind == "linear"
        ):
            raise ValueError(
                "config.model.position='rope' rotates queries and keys inside attention; the chosen "
                f"mixer={cfg.mixer!r} / attention.kind={cfg.attention.kind!r} / space.kind="
                f"{cfg.space.kind!r} has none. Use position='sinusoidal' or 'learned'."
            )
    if cfg.space.lifting_learnable and cfg.space.lifting_filter_length % 2:
        raise ValueError(
            f"config.model.space.lifting_filter_length = {cfg.space.lifting_filter_length} must be even "
            "(centred predict/update taps)"
        )
    if cfg.space.kind == "ada" and cfg.space.wavelet_length % 2:
        raise ValueError(f"config.model.space.wavelet_length = {cfg.space.wavelet_length} must be even (QMF pairs)")
    if cfg.space.kind == "ortho" and cfg.space.wavelet_length % 2:
        raise ValueError(
            f"config.model.space.wavelet_length = {cfg.space.wavelet_length} must be even "
            "(ortho uses wavelet_length / 2 lattice angles)"
        )
    # Wavelet names: the wavelet library's own error (UnknownWaveletError, a ValueError) lists close matches.
    from wavspa_flax.wavelets import filter_bank

    if cfg.mixer == "attention" and cfg.space.kind in ("fixed", "linear"):
        filter_bank(cfg.space.wavelet)
    if cfg.mixer == "attention" and cfg.space.kind == "ada" and cfg.space.init_wavelet:
        filter_bank(cfg.space.init_wavelet)
    if cfg.mixer == "wavelet_mixing":
        filter_bank(cfg.mixing.wavelet)
    if cfg.space.kind in ("fixed", "linear") and cfg.space.dims == "2d" and cfg.space.layout == "joint" and (
        cfg.space.level != 1
    ):
        raise ValueError(
            "config.model.space.layout='joint' with dims='2d' needs space.level=1: the 2-D bands of "
            "different levels have different hidden widths and cannot be concatenated. Use "
            "layout='per_band' or dims='1d'."
        )
