"""Offline generators of LRA's generated tasks, written in the release's own formats.

Imported only when ``data.source=generate`` asks for a set (the task registry of :mod:`lra.data`
imports the task modules, not these), so the Pathfinder generator's SciPy is paid for only there.

* :mod:`.listops`            - the ListOps language (operators, evaluation) and LRA's generator
* :mod:`.pathfinder_settings` - LRA's Pathfinder settings: difficulties, drawing parameters
* :mod:`.pathfinder_paths`   - path placement (occupancy bitsets, dash geometry, path growth)
* :mod:`.pathfinder`         - one image (rendering, labels checked on the pixels) and the set
"""
