"""LRA data layer: the task registry, release/tfds loaders, offline generators (ListOps,
Pathfinder, LEGO) and the batch pipeline (README "Batch contract").

    ds = load_dataset(config)     # ds.info: TaskInfo(name, kind, vocab_size, num_classes, max_length)
    ds.train_batches(global_batch_size, num_devices, seed, start_step=0)  # infinite, resumable
    ds.eval_batches(split, global_batch_size, num_devices)              # one pass, tail kept

Every module of this package is imported here, so a task registers itself by its own
``register_task(TaskSpec(...))`` (see :mod:`lra.data.tasks`); the offline generators
(:mod:`lra.data.generators`) are a subpackage, imported only when a set is generated.
"""
import importlib
import pkgutil

from lra.data.dataset import load_dataset, task_info
from lra.data.errors import DataError
from lra.data.pipeline import Dataset
from lra.data.tasks import (
    TaskInfo,
    TaskSpec,
    default_data_config,
    default_max_length,
    get_task,
    register_task,
    task_names,
)

for _module in pkgutil.iter_modules(__path__):
    if not _module.ispkg:
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "DataError", "Dataset", "TaskInfo", "TaskSpec", "default_data_config", "default_max_length", "get_task",
    "load_dataset", "register_task", "task_info", "task_names",
]
