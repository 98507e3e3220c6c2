#!/usr/bin/python3
"""Softmax regression on Fashion-MNIST in PyTorch (Debian's python3-torch), with the settings of
examples/logistic_regression (pixels in [0, 1], nn.Linear(784, 10), batch 64, 10 epochs, SGD lr 0.1
or Adam lr 1e-3, cross entropy): a time and accuracy reference, not used by any test.  Like koan's
fit, each epoch also evaluates the test set.
Run from the checkout: /usr/bin/python3 scripts/reference/softmax_regression_torch.py sgd|adam [threads]"""
import gzip
import sys
import time

import numpy as np
import torch
import torch.nn as nn

root = "data/fashion-mnist/"


def idx(name):
    with gzip.open(root + name) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


which = sys.argv[1] if len(sys.argv) > 1 else "sgd"
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
torch.manual_seed(0)
x = torch.tensor(idx("train-images-idx3-ubyte.gz"), dtype=torch.float32).reshape(-1, 784) / 255
y = torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.int64)
xt = torch.tensor(idx("t10k-images-idx3-ubyte.gz"), dtype=torch.float32).reshape(-1, 784) / 255
yt = torch.tensor(idx("t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)
net = nn.Linear(784, 10)
opt = torch.optim.SGD(net.parameters(), lr=0.1) if which == "sgd" else torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()
start = time.time()
for epoch in range(10):
    perm = torch.randperm(len(x))
    for b in range(0, len(x), 64):
        i = perm[b:b + 64]
        opt.zero_grad()
        loss = loss_fn(net(x[i]), y[i])
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = (net(xt).argmax(1) == yt).float().mean().item()
    print(f"epoch {epoch + 1}: test accuracy {acc:.4f} ({time.time() - start:.1f} s)", flush=True)
print(f"PyTorch {torch.__version__}, {which}: test accuracy {acc:.4f} in {time.time() - start:.1f} s")
