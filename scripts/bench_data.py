"""Throughput of the LRA data pipeline on this machine (examples/s of `train_batches`).

For every task: the data are made in a temporary folder (generated for listops/pathfinder/lego,
synthetic files in the release format for retrieval, tfds mock data sources for text/image),
then
  first epoch   = load_dataset (tokenise + write cache) + one epoch of train_batches
  cached epoch  = load_dataset again (memory-mapped cache) + one epoch of train_batches
Generation time is reported separately. Usage:

    python scripts/bench_data.py [--tasks listops,text,...] [--batch 32] [--devices 1] [--quick]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from lra.data import default_data_config, default_max_length, load_dataset


def make_config(task, data_dir, **data):
    import ml_collections

    d = default_data_config(task)
    d.dir = data_dir
    for k, v in data.items():
        setattr(d, k, v)
    return ml_collections.ConfigDict(dict(task=task, seed=0, max_length=default_max_length(task, d), data=d))


def write_aan(folder, sizes, doc_bytes, seed=0):
    """Synthetic AAN pairs in the release format (label id1 id2 text1 text2, no header)."""
    rng = np.random.default_rng(seed)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz      .,()0123456789", np.uint8)
    path = os.path.join(folder, "tsv_data")
    os.makedirs(path, exist_ok=True)
    for name, n in sizes.items():
        with open(os.path.join(path, f"new_aan_pairs.{name}.tsv"), "wb") as f:
            for i in range(n):
                docs = [alphabet[rng.integers(0, len(alphabet), rng.integers(doc_bytes // 2, doc_bytes * 2))].tobytes()
                        for _ in range(2)]
                f.write(b"%d.0\tA%d\tB%d\t%s\t%s\n" % (i % 2, i, i, docs[0], docs[1]))


def mock_source(task, n, seed=0):
    """A list of examples standing in for a tfds data source (realistic sizes)."""
    rng = np.random.default_rng(seed)
    if task == "text":
        alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz     .,'", np.uint8)
        return [{"text": alphabet[rng.integers(0, len(alphabet), rng.integers(500, 2600))].tobytes().decode(),
                 "label": int(rng.integers(2))} for _ in range(n)]
    return [{"image": rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "label": int(rng.integers(10))}
            for _ in range(n)]


def epoch(ds, batch, devices):
    n = ds.num_examples("train")
    steps = max(1, n // batch)
    it = ds.train_batches(batch, devices, seed=0)
    t = time.perf_counter()
    for _ in range(steps):
        b = next(it)
    return steps * batch, time.perf_counter() - t, b


def bench(task, root, args):
    quick = args.quick
    data = {}
    if task == "listops":
        data = dict(num_train=500 if quick else 2000, num_val=50, num_test=50)
    elif task == "pathfinder":
        data = dict(num_train=200 if quick else 400, num_val=25 if quick else 50, num_test=25 if quick else 50)
    elif task == "lego":
        data = dict(num_train=2000 if quick else 10000)
    cfg = make_config(task, root, **data)
    gen_s = 0.0
    ctx = None
    if task in ("listops", "pathfinder", "lego"):
        # generate first, timed on its own (load_dataset then finds the manifest and skips it)
        t = time.perf_counter()
        if task == "listops":
            from lra.data.generators.listops import generate_listops

            d = cfg.data
            generate_listops(root, 0, d.num_train, d.num_val, d.num_test, d.min_tokens, d.max_tokens)
        elif task == "pathfinder":
            from lra.data.generators.pathfinder import generate_pathfinder

            d = cfg.data
            generate_pathfinder(root, 0, d.resolution, d.difficulty, d.num_train + d.num_val + d.num_test)
        else:
            from lra.data.lego import generate_lego

            d = cfg.data
            generate_lego(root, 0, d.num_vars, d.num_train, d.num_val, d.num_test)
        gen_s = time.perf_counter() - t
    elif task == "retrieval":
        t = time.perf_counter()
        n = 300 if quick else 2000
        write_aan(root, {"train": n, "eval": n // 10, "test": n // 10}, doc_bytes=4000)
        gen_s = time.perf_counter() - t
    else:
        import tensorflow_datasets as tfds

        n = 2000 if quick else 10000
        sources = {s: mock_source(task, n if s == "train" else n // 10, i)
                   for i, s in enumerate(("train", "val", "test"))}

        def as_source(self, split, **kw):  # tfds split string -> our synthetic split
            split = str(split)
            return sources["val" if split.startswith("train[9") else "train" if split.startswith("train") else "test"]

        ctx = tfds.testing.mock_data(as_data_source_fn=as_source, policy=tfds.testing.MockPolicy.USE_CODE)
        ctx.__enter__()
    try:
        t = time.perf_counter()
        ds = load_dataset(cfg)
        tok_s = time.perf_counter() - t
        n1, it1, b = epoch(ds, args.batch, args.devices)
        t = time.perf_counter()
        ds = load_dataset(cfg)
        load_s = time.perf_counter() - t
        n2, it2, _ = epoch(ds, args.batch, args.devices)
        shape = "x".join(map(str, b["inputs"].shape))
        return dict(task=task, n=ds.num_examples("train"), shape=shape, gen_s=gen_s, tok_s=tok_s,
                    first=n1 / (tok_s + it1), load_s=load_s, cached=n2 / (load_s + it2), iterate=n2 / it2)
    finally:
        if ctx is not None:
            ctx.__exit__(None, None, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default="listops,text,retrieval,image,pathfinder,lego")
    ap.add_argument("--batch", type=int, default=32, help="global batch size")
    ap.add_argument("--devices", type=int, default=1, help="leading device axis")
    ap.add_argument("--quick", action="store_true", help="smaller data sets")
    ap.add_argument("--dir", default="", help="work folder (default: a temporary one)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for task in args.tasks.split(","):
            root = os.path.join(args.dir or tmp, task)
            rows.append(bench(task, root, args))
            r = rows[-1]
            print(f"{r['task']:<11} n_train={r['n']:<6} batch={r['shape']:<16} generate/write {r['gen_s']:7.2f}s  "
                  f"tokenise+cache {r['tok_s']:7.2f}s  first epoch {r['first']:10.0f} ex/s  "
                  f"cached load {r['load_s']:6.3f}s  cached epoch {r['cached']:10.0f} ex/s  "
                  f"(batching alone {r['iterate']:10.0f} ex/s)", flush=True)


if __name__ == "__main__":
    main()
