"""Time spectrans 0.1.0's WaveletTransformer forward+backward (run with the peer venv's python).

Never imported by the project: ``python -m lra.bench --suite peer`` runs it in a subprocess with
the interpreter of the venv made by ``scripts/setup_spectrans_peer.sh``. Prints one JSON line.
Model as in the reference notes (A.9): hidden 256, 4 layers, db2, 1 level, pointwise mixing,
dropout 0.1, FFN 4 x hidden (its default), sinusoidal positions, no vocabulary and no head
(``output_type='none'``); input ``inputs_embeds`` N(0, 1) of shape (batch, length, 256); loss
mean(out^2); train mode; one warm-up, then ``--reps`` timed forward+backward passes.
"""
import argparse
import json
import time

import torch
from spectrans.models import WaveletTransformer

parser = argparse.ArgumentParser()
parser.add_argument("--length", type=int, default=1024)
parser.add_argument("--batch", type=int, default=8)
parser.add_argument("--reps", type=int, default=3)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
model = WaveletTransformer(hidden_dim=256, num_layers=4, wavelet="db2", levels=1, mixing_mode="pointwise",
                           max_sequence_length=args.length, dropout=0.1, output_type="none")
model.train()
x = torch.randn(args.batch, args.length, 256)


def step():
    model.zero_grad(set_to_none=True)
    loss = model(inputs_embeds=x).pow(2).mean()
    loss.backward()


step()
samples = []
for _ in range(args.reps):
    start = time.perf_counter()
    step()
    samples.append(time.perf_counter() - start)
print(json.dumps({"fwd_bwd_s": samples, "threads": torch.get_num_threads(),
                  "params": sum(p.numel() for p in model.parameters()),
                  "versions": f"spectrans 0.1.0, torch {torch.__version__}"}))
