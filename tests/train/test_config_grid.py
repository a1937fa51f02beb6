"""Every task config x every variant x every scale resolves, validates, builds and runs forward and
backward at its own shapes, exactly as the command line resolves it (``lra.config.load_config``).

Forward+backward are traced abstractly (``jax.eval_shape``: every shape, level and config error
surfaces; nothing is computed), so paper-sized models cost only their trace:

* the block mixer (the only part that depends on the variant: space + attention, or an
  attention-free mixer) of every combination, at the encoder's resolved input ``[1, n', d]``
  (``n'`` counts the CLS token) with a padding mask; combinations whose mixer and shape coincide
  are traced once;
* the whole model (embedding, every block, head, loss) for ``transformer`` and ``transformer,ada``
  of every task config and scale (the readout differs for the parameterised spaces).

The real computation of every attention x space pair runs in ``tests/models/test_models.py`` and
one real training step of every task in ``test_task_configs.py``.
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import pytest

from lra import config as lra_config
from lra.config import SCALES
from lra.data import task_info
from lra.steps import make_key
from wavspa_flax import build_model
from wavspa_flax.attention import ATTENTIONS
from wavspa_flax.config import compute_dtype
from wavspa_flax.mixers import ATTENTION_MIXER, MIXERS, mixer_factory
from wavspa_flax.spaces import SPACES

from .conftest import REPO

TASK_CONFIGS = ("listops", "text", "retrieval", "image", "pathfinder", "lego", "quickstart")
# The command-line names of the registered attentions (the paper's name 'transformer' for 'full').
CLI_ATTENTIONS = tuple(next((a for a, n in ATTENTIONS.aliases().items() if n == name), name)
                       for name in ATTENTIONS.names(ablations=False))
VARIANTS = tuple(f"{a},{s}" for a in CLI_ATTENTIONS for s in SPACES.names()) + tuple(
    m for m in MIXERS.names() if m != ATTENTION_MIXER)
WHOLE_MODEL_VARIANTS = ("transformer", "transformer,ada")
_TRACED: set = set()  # (mixer factory, n', d) already traced in this session


def test_the_grid_covers_the_papers_choices():
    assert {ATTENTIONS.resolve(a) for a in CLI_ATTENTIONS} == set(ATTENTIONS.names(ablations=False))
    assert {"transformer", "linformer", "linear", "longformer", "performer"} <= set(CLI_ATTENTIONS)
    free_mixers = len(MIXERS.names()) - 1
    assert len(VARIANTS) == len(CLI_ATTENTIONS) * len(SPACES.names()) + free_mixers >= 5 * 8 + 2


def _resolve(task: str, variant: str, scale: str):
    config = lra_config.load_config(f"{REPO}/configs/{task}.py:{variant}", {"scale": scale})
    assert config.scale == scale and config.variant.endswith(variant)
    lra_config.validate(config, num_devices=1)
    info = task_info(config)
    model = build_model(config.model, vocab_size=info.vocab_size, num_classes=info.num_classes,
                        max_length=info.max_length, task_kind=info.kind)
    return config, info, model


def _trace_mixer(config, info) -> None:
    cfg = config.model
    factory = mixer_factory(cfg, compute_dtype(cfg))
    n = info.max_length + int(cfg.readout == "CLS" and info.kind != "token")
    key = (factory, n, cfg.emb_dim)
    if key in _TRACED:
        return
    mixer = factory()
    x = jax.ShapeDtypeStruct((1, n, cfg.emb_dim), jnp.dtype(compute_dtype(cfg)))
    mask = jax.ShapeDtypeStruct((1, n), jnp.bool_)

    def forward_backward(x, mask):
        params = mixer.init(make_key(0), x, mask)
        loss = lambda p: jnp.sum(mixer.apply(p, x, mask, deterministic=False,  # noqa: E731
                                             rngs={"dropout": make_key(1)}).astype(jnp.float32) ** 2)
        return jax.value_and_grad(loss)(params)

    (loss, grads) = jax.eval_shape(forward_backward, x, mask)
    assert loss.shape == ()
    _TRACED.add(key)


def _trace_model(model, info) -> None:
    shape = (1, 2, info.max_length) if info.kind == "dual" else (1, info.max_length)
    inputs = jax.ShapeDtypeStruct(shape, jnp.int32)
    lengths = jax.ShapeDtypeStruct(shape[:-1], jnp.int32)

    def forward_backward(inputs, lengths):
        params = model.init(make_key(0), inputs, lengths, train=False)
        logits = lambda p: model.apply(p, inputs, lengths, train=True, rngs={"dropout": make_key(1)})  # noqa: E731
        loss = lambda p: jnp.sum(jax.nn.log_softmax(logits(p)))  # noqa: E731
        return logits(params), jax.grad(loss)(params)

    logits, _ = jax.eval_shape(forward_backward, inputs, lengths)
    expected = (1, info.max_length, info.num_classes) if info.kind == "token" else (1, info.num_classes)
    assert logits.shape == expected


@pytest.mark.parametrize("task", TASK_CONFIGS)
@pytest.mark.slow
def test_every_variant_and_scale_builds_and_runs_forward_and_backward(task):
    failures = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a level above pywt's maximum warns (and computes)
        for scale in SCALES:
            for variant in VARIANTS:
                try:
                    config, info, model = _resolve(task, variant, scale)
                    _trace_mixer(config, info)
                    if variant in WHOLE_MODEL_VARIANTS:
                        _trace_model(model, info)
                except Exception as error:  # collect every failing combination, then report them all
                    failures.append(f"configs/{task}.py:{variant} scale={scale}: {type(error).__name__}: "
                                    f"{str(error).splitlines()[0][:300]}")
    assert not failures, "\n".join(failures)


def test_equal_configs_give_equal_factories():
    """The dedup above relies on equal configs giving equal (hashable) factories, and unequal unequal."""
    spec = f"{REPO}/configs/text.py:performer,ada"
    a, b = (lra_config.load_config(spec, {"scale": "small"}) for _ in range(2))
    c = lra_config.load_config(spec, {"scale": "small", "model.space.wavelet_length": 8})
    fa, fb, fc = (mixer_factory(x.model, compute_dtype(x.model)) for x in (a, b, c))
    assert hash(fa) == hash(fb) and fa == fb and fa != fc
