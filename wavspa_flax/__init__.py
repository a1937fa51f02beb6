"""WavSpA in JAX/Flax: attention in wavelet space (see README.md for the code map).

Public entry points: :func:`build_model` and :func:`default_model_config`.
"""

from wavspa_flax.config import default_model_config, validate_model_config
from wavspa_flax.models import WavspaModel, build_model

__all__ = ["build_model", "default_model_config", "validate_model_config", "WavspaModel"]
