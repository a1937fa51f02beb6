"""Pure-JAX wavelet transforms for WavSpA (paper section 3, A.1).

* :mod:`.filters`   - :class:`FilterBank`, pywt look-up, QMF relation (eq. 4), level limits
* :mod:`.extension` - pywt signal-extension modes
* :mod:`.dwt`       - 1-D DWT / IDWT / wavedec / waverec along any axis, pywt-exact, per-channel filters
* :mod:`.dwt2`      - separable 2-D transform (the fixed WavSpA: db2, level 1, sequence x hidden)
* :mod:`.lattice`   - orthogonal lattice filters (OrthoWavSpA, eq. 5-6)
* :mod:`.lifting`   - lifting scheme (LiftWavSpA, eq. 7-9)
* :mod:`.init`      - initialisers of the learnable parameters
* :mod:`.errors`    - exception types

All transforms are jit-able, differentiable w.r.t. inputs and filters, and batched over every
axis they do not transform.
"""
from wavspa_flax.wavelets.dwt import (
    coefficient_lengths,
    coefficient_support_masks,
    dwt,
    idwt,
    wavedec,
    waverec,
)
from wavspa_flax.wavelets.dwt2 import dwt2, idwt2, wavedec2, waverec2
from wavspa_flax.wavelets.errors import (
    CoefficientShapeError,
    FilterLengthError,
    InputDtypeError,
    LevelError,
    LevelWarning,
    ModeError,
    UnknownWaveletError,
)
from wavspa_flax.wavelets.extension import MODES
from wavspa_flax.wavelets.filters import FilterBank, bank_length, filter_bank, max_level, qmf_filter_bank
from wavspa_flax.wavelets.init import init_lattice_angles, init_lifting_weights, init_scaling_filters
from wavspa_flax.wavelets.lattice import lattice_angles, lattice_filter_bank, lattice_scaling_filter, project_lowpass
from wavspa_flax.wavelets.lifting import (
    lifting_band_lengths,
    lifting_dec,
    lifting_max_level,
    lifting_rec,
    lifting_support_masks,
)

__all__ = [
    "MODES",
    "CoefficientShapeError",
    "FilterBank",
    "bank_length",
    "FilterLengthError",
    "InputDtypeError",
    "LevelError",
    "LevelWarning",
    "ModeError",
    "UnknownWaveletError",
    "coefficient_lengths",
    "coefficient_support_masks",
    "dwt",
    "dwt2",
    "filter_bank",
    "idwt",
    "idwt2",
    "init_lattice_angles",
    "init_lifting_weights",
    "init_scaling_filters",
    "lattice_angles",
    "lattice_filter_bank",
    "lattice_scaling_filter",
    "lifting_band_lengths",
    "lifting_dec",
    "lifting_max_level",
    "lifting_rec",
    "lifting_support_masks",
    "max_level",
    "project_lowpass",
    "qmf_filter_bank",
    "wavedec",
    "wavedec2",
    "waverec",
    "waverec2",
]
