#!/usr/bin/python3
"""Matrix factorisation with biases on MovieLens in PyTorch (Debian's python3-torch), with the same
data, split, model, penalty and settings as examples/recommender (dim 64, lambda 10, SparseAdam lr
1e-2 on sparse embeddings, batch 1024, 25 epochs, predictions clamped to [0.5, 5]): a time and
accuracy reference for koan_recommender --models mf, not used by any test.
Run from the checkout: /usr/bin/python3 scripts/reference/recommender_torch.py [threads]"""
import sys
import time

import numpy as np
import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)

d = np.genfromtxt("data/movielens/ratings.csv", delimiter=",", skip_header=1)
test_rows = np.loadtxt("scripts/data/splits/movielens_test.txt", dtype=np.int64)
is_train = np.ones(len(d), bool)
is_train[test_rows] = False
_, users = np.unique(d[:, 0], return_inverse=True)
_, items = np.unique(d[:, 1], return_inverse=True)
ratings = d[:, 2].astype(np.float32)
U, I = users.max() + 1, items.max() + 1
tu, ti, tr = (torch.tensor(a[is_train]) for a in (users, items, ratings))
eu, ei, er = (torch.tensor(a[test_rows]) for a in (users, items, ratings))
mu = tr.mean()
nu = torch.bincount(tu, minlength=U).float().clamp(min=1)
ni = torch.bincount(ti, minlength=I).float().clamp(min=1)

dim, lam, lr, epochs, batch = 64, 10.0, 1e-2, 25, 1024
P = torch.nn.Embedding(U, dim, sparse=True)
Q = torch.nn.Embedding(I, dim, sparse=True)
bu = torch.nn.Embedding(U, 1, sparse=True)
bi = torch.nn.Embedding(I, 1, sparse=True)
for e in (P, Q):
    torch.nn.init.normal_(e.weight, 0, 0.01)
for e in (bu, bi):
    torch.nn.init.zeros_(e.weight)
opt = torch.optim.SparseAdam([P.weight, Q.weight, bu.weight, bi.weight], lr=lr)


def predict(u, i):
    return mu + bu(u).squeeze(1) + bi(i).squeeze(1) + (P(u) * Q(i)).sum(1)


start = time.time()
n = len(tr)
for epoch in range(epochs):
    order = torch.randperm(n)
    for s in range(0, n, batch):
        idx = order[s:s + batch]
        u, i, r = tu[idx], ti[idx], tr[idx]
        pu, qi, b_u, b_i = P(u), Q(i), bu(u).squeeze(1), bi(i).squeeze(1)
        pred = mu + b_u + b_i + (pu * qi).sum(1)
        penalty = ((b_u ** 2 + (pu ** 2).sum(1)) / nu[u] + (b_i ** 2 + (qi ** 2).sum(1)) / ni[i]).mean()
        loss = ((pred - r) ** 2).mean() + lam * penalty
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        rmse = ((predict(eu, ei).clamp(0.5, 5) - er) ** 2).mean().sqrt().item()
    print(f"epoch {epoch + 1:2d}/{epochs} - test rmse {rmse:.4f}", flush=True)
print(f"PyTorch {torch.__version__}, {threads} thread(s): test RMSE {rmse:.4f} in {time.time() - start:.1f} s")
