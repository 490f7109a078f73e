#!/usr/bin/env python3
"""PyTorch side of scripts/bench_vs_torch.sh: trains the chapter-10 MLP (784-256-128-10, ReLU,
Adam lr 1e-3, cross entropy) on Fashion-MNIST with the same batch size and thread count as
`ch10_training --bench`, and prints one JSON line: {"framework": "pytorch", "samples_per_s": ...}.

The data are Debian's gzipped IDX files (dataset-fashion-mnist); pixels are scaled to [0, 1] as
our loader does. Only training steps are timed (forward, loss, backward, optimizer step), after a
warm-up of 20 steps, over --steps steps of freshly shuffled batches.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, f"{path}: not a uint8 IDX file"
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("GNM_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
    y = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).to(args.device)
    y = torch.from_numpy(y.astype(np.int64)).to(args.device)
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128),
                                torch.nn.ReLU(), torch.nn.Linear(128, 10)).to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]

    def step(idx):
        logits = model(x[idx])
        loss = torch.nn.functional.cross_entropy(logits, y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    perm = torch.randperm(n, device=args.device)
    for i in range(20):
        step(perm[i * args.batch:(i + 1) * args.batch])
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    done = 0
    pos = 0
    for _ in range(args.steps):
        if pos + args.batch > n:
            perm = torch.randperm(n, device=args.device)
            pos = 0
        step(perm[pos:pos + args.batch])
        pos += args.batch
        done += args.batch
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    print(json.dumps({"framework": "pytorch", "torch": torch.__version__, "batch": args.batch,
                      "threads": args.threads, "steps": args.steps, "device": args.device,
                      "samples_per_s": done / dt}))


if __name__ == "__main__":
    main()
