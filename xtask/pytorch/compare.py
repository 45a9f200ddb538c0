#!/usr/bin/env python3
"""PyTorch side of `cargo xtask bench --compare-pytorch`.

Measures, at each requested thread count, the same headline figures as the Strata benches,
on the same problems:

* matmul_1024: a 1024x1024 by 1024x1024 f32 product, in GFLOP/s;
* mlp_train_b32, mlp_train, mlp_train_b256: training steps of an MLP 784-512-256-10 (ReLU)
  at batch 32, 128 and 256 with Adam (lr 1e-3), in samples/s;
* lstm_step: forward + backward of nn.LSTM(128, 128, batch_first) on [32, 50, 128] with the
  mean squared output as loss (no optimizer step), in sequences/s; its parameters all use
  the bound 1/sqrt(hidden), as PyTorch's recurrent layers do;
* lenet_train: training steps of LeNet-5 (conv 1->6 5x5, ReLU, max-pool 2, conv 6->16 5x5,
  ReLU, max-pool 2, dense 256-120-84-10 with ReLU) on the same inputs viewed as 1x28x28, at
  batch 64 with Adam (lr 1e-3), in samples/s;
* transformer_step: forward + backward of nn.TransformerEncoderLayer(128, 4,
  dim_feedforward=512, dropout=0.0, batch_first=True) (ReLU, post-norm) on [32, 64, 128]
  with the mean squared output as loss (no optimizer step), in sequences/s;
* tiny_mlp_step: one training step of an MLP 2-64-64-2 (ReLU) at batch 32 with Adam, in
  microseconds, at one thread only (the step is per-op overhead);

and the first-batch loss of each model before any update. Inputs, labels and initial weights
follow the portable SplitMix64 specification in `SPEC.md` beside this script (Strata's side
is the `strata-bench-reference` crate), so Strata and PyTorch
start from bit-identical numbers and their first losses agree to about 1e-6.

A training step is: clear gradients, forward, softmax cross-entropy, backward, optimizer step.
Step s uses rows [(s mod nb)*B, (s mod nb)*B + B) of the dataset (nb = rows // B). Each figure
is the median over timed steps, after untimed warm-up steps.

Progress goes to stderr; stdout gets exactly one JSON line:
  {"torch": ..., "figures": {key: {threads: value}}, "first_loss": {model: loss}}

Usage: python compare.py [--threads 1,2] [--quick]
"""

import argparse
import json
import math
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn

MASK = (1 << 64) - 1
INCREMENT = 0x9E3779B97F4A7C15
MULTIPLIER_1 = 0xBF58476D1CE4E5B9
MULTIPLIER_2 = 0x94D049BB133111EB

INPUT_STREAM = 0x1001
TEACHER_STREAM = 0x1002
PARAMETER_STREAM = 0x2000

MLP_ROWS, MLP_BATCHES = 256 * 24, (32, 128, 256)
TINY_ROWS, TINY_BATCH = 32 * 16, 32
LENET_ROWS, LENET_BATCH = 64 * 32, 64
LSTM_BATCH, LSTM_STEPS, LSTM_FEATURES, LSTM_HIDDEN = 32, 50, 128, 128
TRANSFORMER_BATCH, TRANSFORMER_TOKENS, TRANSFORMER_WIDTH, TRANSFORMER_HEADS, TRANSFORMER_FF = 32, 64, 128, 4, 512


def stream(seed, count):
    """Outputs 0..count-1 of SplitMix64 started at `seed` (uint64 numpy array)."""
    with np.errstate(over="ignore"):
        state = np.uint64(seed & MASK) + np.arange(1, count + 1, dtype=np.uint64) * np.uint64(INCREMENT)
        mixed = (state ^ (state >> np.uint64(30))) * np.uint64(MULTIPLIER_1)
        mixed = (mixed ^ (mixed >> np.uint64(27))) * np.uint64(MULTIPLIER_2)
        return mixed ^ (mixed >> np.uint64(31))


def top24(seed, count):
    """The top 24 bits of each output: integers in [0, 2^24)."""
    return (stream(seed, count) >> np.uint64(40)).astype(np.int64)


def reference_data(rows, dims, classes):
    """Inputs k / 2^24 and teacher labels argmax_c sum_j (2k - 2^24) t[j, c], exactly."""
    k = top24(INPUT_STREAM, rows * dims).reshape(rows, dims)
    inputs = (k.astype(np.float64) / float(1 << 24)).astype(np.float32)
    teacher = (stream(TEACHER_STREAM, dims * classes) >> np.uint64(57)).astype(np.int64) - 64
    scores = (2 * k - (1 << 24)) @ teacher.reshape(dims, classes)
    labels = np.argmax(scores, axis=1)  # the first maximum: ties go to the lowest class
    return torch.from_numpy(inputs), torch.from_numpy(labels.astype(np.int64))


def uniform_parameter(index, shape, bound):
    """Parameter `index` from stream 0x2000 + index, uniform in [-bound, bound), in float64."""
    unit = top24(PARAMETER_STREAM + index, math.prod(shape)).astype(np.float64) / float(1 << 24)
    return torch.from_numpy(((2.0 * unit - 1.0) * bound).astype(np.float32).reshape(tuple(shape)))


def reference_init(model):
    """Parameter p (named_parameters order) from stream 0x2000 + p, uniform in
    [-1/sqrt(fan_in), 1/sqrt(fan_in)) with its layer's fan-in, computed in float64."""
    layers = {}
    for name, parameter in model.named_parameters():
        if name.endswith("weight"):
            layers[name.rsplit(".", 1)[0]] = math.prod(parameter.shape[1:])
    with torch.no_grad():
        for index, (name, parameter) in enumerate(model.named_parameters()):
            fan_in = layers.get(name.rsplit(".", 1)[0], parameter.shape[0])
            parameter.copy_(uniform_parameter(index, parameter.shape, 1.0 / math.sqrt(fan_in)))


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )


def training_figure(build, inputs, labels, batch, warmup, steps, init=True):
    """Median samples/s of Adam training steps, and the loss of the very first step."""
    model = build()
    if init:
        reference_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    batches = inputs.shape[0] // batch
    first_loss, times = None, []
    for step in range(warmup + steps):
        start = (step % batches) * batch
        x, y = inputs[start:start + batch], labels[start:start + batch]
        began = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        elapsed = time.perf_counter() - began
        if first_loss is None:
            first_loss = loss.item()
        if step >= warmup:
            times.append(elapsed)
    return batch / statistics.median(times), first_loss


def tiny_mlp_figure(warmup, steps):
    """Median microseconds of a 2-64-64-2 MLP training step at batch 32 (the label is whether
    the first input is positive; data and weights from torch's own seeded generator)."""
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(TINY_ROWS, 2, generator=generator)
    labels = (inputs[:, 0] > 0).long()
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    samples_per_second, _ = training_figure(lambda: model, inputs, labels, TINY_BATCH, warmup, steps, init=False)
    return 1e6 * TINY_BATCH / samples_per_second


def lstm_figure(warmup, steps):
    """Median sequences/s of LSTM forward + backward steps, and the first step's loss."""
    lstm = nn.LSTM(LSTM_FEATURES, LSTM_HIDDEN, batch_first=True)
    with torch.no_grad():
        for index, parameter in enumerate(lstm.parameters()):
            parameter.copy_(uniform_parameter(index, parameter.shape, 1.0 / math.sqrt(LSTM_HIDDEN)))
    rows = LSTM_BATCH * LSTM_STEPS
    k = top24(INPUT_STREAM, rows * LSTM_FEATURES).astype(np.float64) / float(1 << 24)
    x = torch.from_numpy(k.astype(np.float32).reshape(LSTM_BATCH, LSTM_STEPS, LSTM_FEATURES))
    first_loss, times = None, []
    for step in range(warmup + steps):
        began = time.perf_counter()
        lstm.zero_grad(set_to_none=True)
        loss = lstm(x)[0].square().mean()
        loss.backward()
        elapsed = time.perf_counter() - began
        if first_loss is None:
            first_loss = loss.item()
        if step >= warmup:
            times.append(elapsed)
    return LSTM_BATCH / statistics.median(times), first_loss


def transformer_figure(warmup, steps):
    """Median sequences/s of transformer encoder layer forward + backward steps, and the first
    step's loss."""
    layer = nn.TransformerEncoderLayer(
        TRANSFORMER_WIDTH, TRANSFORMER_HEADS, dim_feedforward=TRANSFORMER_FF, dropout=0.0, batch_first=True
    )
    reference_init(layer)
    rows = TRANSFORMER_BATCH * TRANSFORMER_TOKENS
    k = top24(INPUT_STREAM, rows * TRANSFORMER_WIDTH).astype(np.float64) / float(1 << 24)
    x = torch.from_numpy(k.astype(np.float32).reshape(TRANSFORMER_BATCH, TRANSFORMER_TOKENS, TRANSFORMER_WIDTH))
    first_loss, times = None, []
    for step in range(warmup + steps):
        began = time.perf_counter()
        layer.zero_grad(set_to_none=True)
        loss = layer(x).square().mean()
        loss.backward()
        elapsed = time.perf_counter() - began
        if first_loss is None:
            first_loss = loss.item()
        if step >= warmup:
            times.append(elapsed)
    return TRANSFORMER_BATCH / statistics.median(times), first_loss


def matmul_figure(size, repeats):
    """Median GFLOP/s of a size x size by size x size f32 product."""
    generator = torch.Generator().manual_seed(1)
    a = torch.rand(size, size, generator=generator) * 2 - 1
    b = torch.rand(size, size, generator=generator) * 2 - 1
    for _ in range(3):
        torch.mm(a, b)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - began)
    return 2.0 * size ** 3 / statistics.median(times) * 1e-9


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--quick", action="store_true", help="fewer timed steps")
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",") if t]
    warmup, steps, repeats = (10, 60, 20) if args.quick else (30, 300, 60)

    mlp_x, mlp_y = reference_data(MLP_ROWS, 784, 10)
    lenet_x, lenet_y = reference_data(LENET_ROWS, 784, 10)
    lenet_x = lenet_x.reshape(LENET_ROWS, 1, 28, 28)

    mlp_keys = {32: "mlp_train_b32", 128: "mlp_train", 256: "mlp_train_b256"}
    figures = {key: {} for key in ["matmul_1024", *mlp_keys.values(), "lenet_train", "lstm_step", "transformer_step", "tiny_mlp_step"]}
    first_loss = {}
    for count in threads:
        torch.set_num_threads(count)
        t = str(count)
        figures["matmul_1024"][t] = matmul_figure(1024, repeats)
        for batch, key in mlp_keys.items():
            rate, loss = training_figure(mlp, mlp_x, mlp_y, batch, warmup, steps)
            figures[key][t] = rate
            if batch == 128:
                first_loss.setdefault("mlp", loss)
        lenet_rate, lenet_loss = training_figure(lenet, lenet_x, lenet_y, LENET_BATCH, warmup, steps)
        figures["lenet_train"][t] = lenet_rate
        first_loss.setdefault("lenet", lenet_loss)
        lstm_rate, lstm_loss = lstm_figure(warmup // 3, steps // 3)
        figures["lstm_step"][t] = lstm_rate
        first_loss.setdefault("lstm", lstm_loss)
        transformer_rate, transformer_loss = transformer_figure(warmup // 3, steps // 3)
        figures["transformer_step"][t] = transformer_rate
        first_loss.setdefault("transformer", transformer_loss)
        if count == 1:
            figures["tiny_mlp_step"][t] = tiny_mlp_figure(warmup, 10 * steps)
        print(
            f"[compare.py] {count} thread(s): matmul {figures['matmul_1024'][t]:.1f} GFLOP/s, MLP "
            + ", ".join(f"b{b} {figures[k][t]:.0f}" for b, k in mlp_keys.items())
            + f" samples/s, LeNet-5 {lenet_rate:.0f} samples/s, LSTM {lstm_rate:.0f} sequences/s"
            + f", transformer layer {transformer_rate:.0f} sequences/s"
            + (f", tiny MLP {figures['tiny_mlp_step'][t]:.0f} µs/step" if count == 1 else ""),
            file=sys.stderr,
        )
    print(json.dumps({"torch": torch.__version__, "figures": figures, "first_loss": first_loss}))


if __name__ == "__main__":
    main()
