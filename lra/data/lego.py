"""LEGO (paper section 4.4, Zhang et al. 2022): chains of sign assignments, token-level targets.

A sample is a chain of num_vars distinct variables (random letters) v_0 .. v_{k-1}:
`v_0 = s_0 1`, `v_i = s_i v_{i-1}` with random signs s_i, written with the clause order shuffled,
e.g. `a=+1; b=-a; e=+b; d=-f; c=+d; f=+e;`. The task is the sign (value) of every variable.

File format (`lego/lego_{train,val,test}.tsv`, written by `generate_lego`): header
`Source\\tSigns\\tChain`; Source = the clauses in shown order separated by single spaces; Signs =
one '+'/'-' per clause (the value of the clause's variable); Chain = the chain position of each
clause's variable, space-separated.

Tokens: each clause is 5 tokens `var = sign operand ;` (ids from the fixed sorted list
LEGO_TOKENS, 1..31, 0 = pad, vocab 32). The target of a clause sits on its variable token (class 1
= positive, 0 = negative). Arrays: inputs uint8 [N, n], lengths int32 [N], targets uint8 [N, n],
weights uint8 [N, n] (1 on supervised variable tokens), target_index int8 [N, n] (chain position of
the variable token, -1 on every other token). Train supervises chain positions < num_train_vars;
val and test supervise all (the extrapolation split of the paper's Fig. 3: train on the first
14 (20) of 20 (26) variables, test on all). ``data.min_train_vars`` > 0 draws each generated training
chain's length from min_train_vars..num_vars (val/test chains keep num_vars). target_index is set
on every variable token, so per-variable accuracy is `weights * (target_index == k)`.
"""
from __future__ import annotations

import os
import string

import numpy as np

from lra.data.cache import ArrayBuilder
from lra.data.dataset import line_file_splits
from lra.data.errors import DataError, where
from lra.data.generated import atomic_write_text, ensure_generated
from lra.data.release import resolve_release_dir
from lra.data.tasks import TaskSpec, register_task
from lra.data.tsv import count_rows, tsv_rows
from wavspa_flax.errors import ConfigError

LETTERS = string.ascii_lowercase
LEGO_TOKENS = tuple(sorted(["+", "-", "1", ";", "="] + list(LETTERS)))
LEGO_VOCAB_SIZE = len(LEGO_TOKENS) + 1
TOKENS_PER_CLAUSE = 5
NUM_CLASSES = 2
HEADER = b"Source\tSigns\tChain"
SPLIT_FILES = {"train": "lego_train.tsv", "val": "lego_val.tsv", "test": "lego_test.tsv"}
RELEASE_SUBDIR = "lego"

_TABLE = np.full(256, 255, np.uint8)
for _i, _tok in enumerate(LEGO_TOKENS, start=1):
    _TABLE[ord(_tok)] = _i


def sample_chain(rng: np.random.Generator, num_vars: int) -> tuple[list[str], list[str], list[int]]:
    """One sample: (clauses in shown order, sign of each clause's variable, chain positions)."""
    if not 1 <= num_vars <= len(LETTERS):
        raise ValueError(f"num_vars={num_vars} must be in 1..{len(LETTERS)}")
    names = [LETTERS[j] for j in rng.permutation(len(LETTERS))[:num_vars]]
    ops = rng.integers(0, 2, num_vars)  # 1 -> '+', 0 -> '-'
    clauses, values = [], []
    value = 1
    for i, name in enumerate(names):
        sign = "+" if ops[i] else "-"
        value = value if ops[i] else -value
        clauses.append(f"{name}={sign}{'1' if i == 0 else names[i - 1]};")
        values.append("+" if value > 0 else "-")
    order = rng.permutation(num_vars)
    return [clauses[j] for j in order], [values[j] for j in order], [int(j) for j in order]


def lego_tsv_text(samples) -> str:
    """The generator's TSV text for (clauses, signs, chain) samples."""
    lines = ["Source\tSigns\tChain\n"]
    for clauses, signs, chain in samples:
        lines.append(f"{' '.join(clauses)}\t{''.join(signs)}\t{' '.join(map(str, chain))}\n")
    return "".join(lines)


def generate_lego(root: str, seed: int, num_vars: int, num_train: int, num_val: int, num_test: int,
                  min_train_vars: int = 0) -> str:
    """Writes `<root>/lego/lego_{train,val,test}.tsv` (skipped if already generated with these
    parameters). Returns the lego folder.

    min_train_vars: 0 (default) = every chain has num_vars variables; otherwise each training chain
    has a length drawn uniformly from min_train_vars..num_vars (the LEGO paper's varied chain length
    at training time), while val/test chains keep num_vars."""
    params = dict(kind="lego", seed=seed, num_vars=num_vars, num_train=num_train, num_val=num_val, num_test=num_test)
    if min_train_vars:
        params["min_train_vars"] = min_train_vars
    folder = os.path.join(root, RELEASE_SUBDIR)

    def chain_lengths(rng: np.random.Generator, split: str, count: int):
        if split != "train" or not min_train_vars:
            return [num_vars] * count
        return rng.integers(min_train_vars, num_vars + 1, count).tolist()

    def write(folder: str) -> None:
        for k, (split, count) in enumerate((("train", num_train), ("val", num_val), ("test", num_test))):
            rng = np.random.default_rng([seed, k])
            lengths = chain_lengths(rng, split, count)
            text = lego_tsv_text(sample_chain(rng, length) for length in lengths)
            atomic_write_text(os.path.join(folder, SPLIT_FILES[split]), text)

    ensure_generated(folder, params, list(SPLIT_FILES.values()), write)
    return folder


def read_lego_tsv(path: str, max_length: int, supervised_vars: int, limit: int,
                  builder: ArrayBuilder) -> tuple[int, dict]:
    """Loads one LEGO TSV (module docstring); supervised_vars: chain positions < it get weight 1
    (0 = all). Sequences must fit max_length (a cut chain would lose targets)."""
    total = count_rows(path, HEADER, "a `Source\\tSigns\\tChain` header and rows")
    n = min(total, limit) if limit > 0 else total
    inputs = builder.zeros("inputs", (n, max_length), np.uint8)
    lengths = builder.zeros("lengths", (n,), np.int32)
    targets = builder.zeros("targets", (n, max_length), np.uint8)
    weights = builder.zeros("weights", (n, max_length), np.uint8)
    target_index = builder.zeros("target_index", (n, max_length), np.int8)
    target_index[:] = -1
    i = 0
    for lineno, fields in tsv_rows(path, ("Source", "Signs", "Chain"), HEADER):
        if i == n:
            break
        compact = fields[0].replace(b" ", b"")
        ids = _TABLE[np.frombuffer(compact, np.uint8)]
        k = len(ids) // TOKENS_PER_CLAUSE
        signs = fields[1]
        try:
            chain = np.array(fields[2].split(), np.int64)
        except ValueError:
            chain = np.array([-1])
        if (len(ids) % TOKENS_PER_CLAUSE or (ids == 255).any() or k == 0 or len(signs) != k
                or len(chain) != k or sorted(chain.tolist()) != list(range(k))
                or signs.strip(b"+-") or compact[1::TOKENS_PER_CLAUSE] != b"=" * k):
            raise DataError(f"{where(path, lineno)}: malformed row; expected clauses `x=+y;`, one "
                            "'+'/'-' per clause and a permutation of chain positions")
        if len(ids) > max_length:
            raise DataError(f"{where(path, lineno)}: {len(ids)} tokens exceed max_length={max_length}; "
                            f"set config.max_length >= {TOKENS_PER_CLAUSE} * num_vars")
        var_pos = np.arange(k) * TOKENS_PER_CLAUSE
        inputs[i, : len(ids)] = ids
        lengths[i] = len(ids)
        targets[i, var_pos] = np.frombuffer(signs, np.uint8) == ord("+")
        target_index[i, var_pos] = chain
        weights[i, var_pos] = (chain < supervised_vars) if supervised_vars > 0 else 1
        i += 1
    if i == 0:
        raise DataError(f"{where(path)}: empty file (a header but no rows)")
    return i, {}


def _supervised_vars(config, split: str) -> int:
    return int(config.data.num_train_vars) if split == "train" else 0


def load_lego(config, info, root, cache_root):
    """The three LEGO splits (generated, or TSVs in the generator's format under ``lego/``)."""
    d = config.data
    if d.source == "generate":
        folder = generate_lego(root, int(d.generator_seed), int(d.num_vars), int(d.num_train), int(d.num_val),
                               int(d.num_test), int(d.get("min_train_vars", 0)))
    else:
        folder = resolve_release_dir(info.name, root, RELEASE_SUBDIR, list(SPLIT_FILES.values()), allow_generated=True)
    files = {s: os.path.join(folder, f) for s, f in SPLIT_FILES.items()}
    return line_file_splits(
        config, info, cache_root, files,
        lambda p, s, lim, b: read_lego_tsv(p, info.max_length, _supervised_vars(config, s), lim, b),
        extra=lambda s: dict(num_train_vars=_supervised_vars(config, s)))


def check_lego(config) -> None:
    num_vars, train_vars, n = int(config.data.num_vars), int(config.data.num_train_vars), int(config.max_length)
    if not 1 <= train_vars <= num_vars:
        raise ConfigError(f"lego: config.data.num_train_vars={train_vars} must be in 1..data.num_vars={num_vars}")
    min_vars = int(config.data.get("min_train_vars", 0))
    if not 0 <= min_vars <= num_vars:
        raise ConfigError(f"lego: config.data.min_train_vars={min_vars} must be 0 (every chain num_vars long) or in "
                          f"1..data.num_vars={num_vars}")
    if n < TOKENS_PER_CLAUSE * num_vars:
        raise ConfigError(f"lego: config.max_length={n} < {TOKENS_PER_CLAUSE} * data.num_vars "
                          f"({TOKENS_PER_CLAUSE * num_vars}); raise config.max_length")


register_task(TaskSpec(
    name="lego", kind="token", vocab_size=LEGO_VOCAB_SIZE, num_classes=NUM_CLASSES, sources=("generate", "release"),
    load=load_lego, max_length=lambda data: TOKENS_PER_CLAUSE * int(data.num_vars), check=check_lego,
    locate=lambda config, root: resolve_release_dir("lego", root, RELEASE_SUBDIR, list(SPLIT_FILES.values()),
                                                    allow_generated=True),
    index_buckets=lambda data: int(data.num_vars),
    download_hint="data.source=generate (LEGO is synthetic; there is no release to download)",
    num_train_default=10000, num_val_default=1000, num_test_default=1000,
    # Chains of num_vars variables; train supervises the first num_train_vars of each chain,
    # val/test every variable (the extrapolation split of the paper's Fig. 3).
    # min_train_vars > 0: training chains of min_train_vars..num_vars variables (generated data only).
    data=dict(num_vars=20, num_train_vars=14, min_train_vars=0),
))
