#!/usr/bin/env python3
"""PyTorch side of modules/benches/lstm.rs: one LSTM forward + backward step.

nn.LSTM(input 128, hidden 128, batch_first), input [32, 50, 128], loss = mean of the squared
outputs, gradients of every parameter (no optimizer step). Inputs and weights follow the
portable SplitMix64 spec of the Strata bench (see lstm.rs), so both sides print the same
first loss. Prints one line per thread count on stdout.

  /tmp/torch-venv/bin/python modules/benches/pytorch/lstm_step.py --threads 1,2
"""
import argparse
import math
import os
import statistics
import time

import numpy as np
import torch

GOLDEN, MIX1, MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
SEED_INPUTS, SEED_PARAMS = 0x1001, 0x2000


def top24(seed, n):
    """Top 24 bits of the first n SplitMix64 outputs from state `seed`."""
    with np.errstate(over="ignore"):
        z = np.arange(1, n + 1, dtype=np.uint64) * np.uint64(GOLDEN) + np.uint64(seed)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def build(batch, steps, features, hidden):
    x = top24(SEED_INPUTS, batch * steps * features).astype(np.float32)
    x = torch.from_numpy(x.reshape(batch, steps, features))
    lstm = torch.nn.LSTM(features, hidden, batch_first=True)
    bound = 1.0 / math.sqrt(hidden)
    with torch.no_grad():
        for p, (_, param) in enumerate(lstm.named_parameters()):
            u = top24(SEED_PARAMS + p, param.numel())
            values = ((2.0 * u - 1.0) * bound).astype(np.float32).reshape(tuple(param.shape))
            param.copy_(torch.from_numpy(values))
    return lstm, x


def step(lstm, x):
    for p in lstm.parameters():
        p.grad = None
    out, _ = lstm(x)
    loss = out.square().mean()
    loss.backward()
    return loss.item()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=50, help="sequence length T")
    ap.add_argument("--features", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=10)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, load average {os.getloadavg()}")
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        lstm, x = build(args.batch, args.steps, args.features, args.hidden)
        first = step(lstm, x)
        for _ in range(args.warmup):
            step(lstm, x)
        times = []
        for _ in range(args.iters):
            start = time.perf_counter()
            step(lstm, x)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"threads={threads}: {1 / median:.1f} steps/s (median {1e3 * median:.2f} ms, "
              f"min {1e3 * min(times):.2f} ms), first loss {first:.9f}")


if __name__ == "__main__":
    main()
