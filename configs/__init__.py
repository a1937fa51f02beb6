"""Training configs: one file per task (``get_config('<attention>[,<space>]')`` and ``SCALES``).

Resolve one as the command line does with ``lra.config.load_config('configs/<task>.py:<variant>',
{'scale': 'small', ...})``.
"""
