"""Experiments: sweeps of runs (``runs``, ``sweep_files``, ``backends``, ``aggregate``; the command is
``lra.sweep``), the paper's tables from them (``paper_grids``, ``run_results``, ``table_cells``,
``tables``, ``lego_plots``; the command is ``lra.reproduce``), per-run records, the ListOps regime map."""
