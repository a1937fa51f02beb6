"""LRA data layer: release/tfds loaders, offline generators (ListOps, Pathfinder, LEGO) and the
batch pipeline (README "Batch contract").

    info = load_dataset(config).info
    ds.train_batches(global_batch_size, num_devices, seed, start_step=0)  # infinite, resumable
    ds.eval_batches(split, global_batch_size, num_devices)              # one pass, tail kept

Batches: dicts of numpy arrays with a leading device axis (see `lra.data.pipeline`); LEGO adds
`target_index` [D, b, n] (chain position of each variable token, -1 elsewhere).
"""
from lra.data.config import TaskInfo, default_data_config, default_max_length
from lra.data.dataset import load_dataset, task_info
from lra.data.errors import DataError
from lra.data.pipeline import Dataset

__all__ = [
    "DataError",
    "Dataset",
    "TaskInfo",
    "default_data_config",
    "default_max_length",
    "load_dataset",
    "task_info",
]
