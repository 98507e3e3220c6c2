#!/usr/bin/python3
"""The seed CNN in PyTorch (Debian's python3-torch), same data, model and settings as
configs/fashion_mnist_cnn.json: a reference for koan's figures, not used by any test.
Run: /usr/bin/python3 scripts/reference/fashion_mnist_cnn_torch.py [seed] [--keras-init] [--one-cycle]
--keras-init initialises as Keras and the koan config do (glorot_uniform weights, zero biases);
without it the layers keep PyTorch's defaults.  --one-cycle steps OneCycleLR(max_lr=3e-3) after
every batch, as the config's "schedule" does; without it the lr stays at 1e-3."""
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


args = [a for a in sys.argv[1:] if not a.startswith("--")]
seed = int(args[0]) if args else 0
torch.manual_seed(seed)
x = torch.tensor(idx("train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
y = torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.int64)
xt = torch.tensor(idx("t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
yt = torch.tensor(idx("t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)
net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
if "--keras-init" in sys.argv:
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
steps_per_epoch = (len(x) + 63) // 64
sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, epochs=5, steps_per_epoch=steps_per_epoch)
         if "--one-cycle" in sys.argv else None)
loss_fn = nn.CrossEntropyLoss()
start = time.time()
for epoch in range(5):
    perm = torch.randperm(len(x))
    net.train()
    for b in range(0, len(x), 64):
        i = perm[b:b + 64]
        opt.zero_grad()
        loss = loss_fn(net(x[i]), y[i])
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    net.eval()
    with torch.no_grad():
        acc = (net(xt).argmax(1) == yt).float().mean().item()
    print(f"epoch {epoch + 1}: test accuracy {acc:.4f} ({time.time() - start:.0f} s)", flush=True)
