#!/usr/bin/python3
"""PyTorch's cost of one koan_dqn learning step, for docs/projects/dqn.md.

The same update as examples/dqn/dqn.cpp (Double DQN targets, Huber loss, gradient-norm clip,
Adam, soft target update) on the same 4-128-128-2 network and minibatch of 64, on random
minibatches (the cost does not depend on the values), one thread, denormals flushed.  Prints the
thread CPU time per update and per single-state greedy action.

    /usr/bin/python3 scripts/reference/dqn_update_torch.py
"""
import copy
import time

import torch

torch.set_num_threads(1)
torch.set_flush_denormal(True)
torch.manual_seed(0)

q = torch.nn.Sequential(torch.nn.Linear(4, 128), torch.nn.ReLU(), torch.nn.Linear(128, 128), torch.nn.ReLU(),
                        torch.nn.Linear(128, 2))
target = copy.deepcopy(q)
opt = torch.optim.Adam(q.parameters(), lr=1e-3)
B, gamma, tau = 64, 0.98, 0.005


def update():
    obs, next_obs = torch.randn(B, 4), torch.randn(B, 4)
    action = torch.randint(0, 2, (B, 1))
    reward, terminated = torch.ones(B), (torch.rand(B) < 0.05).float()
    with torch.no_grad():
        pick = q(next_obs).argmax(1, keepdim=True)
        y = reward + (1 - terminated) * target(next_obs).gather(1, pick).squeeze(1) * gamma
    q_sa = q(obs).gather(1, action).squeeze(1)
    loss = torch.nn.functional.huber_loss(q_sa, y)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(q.parameters(), 10.0)
    opt.step()
    with torch.no_grad():
        for t, p in zip(target.parameters(), q.parameters()):
            t.add_(p - t, alpha=tau)


def act():
    with torch.no_grad():
        return int(q(torch.randn(1, 4)).argmax())


for f, name, n in [(update, "update", 3000), (act, "act", 20000)]:
    for _ in range(200):
        f()
    t0 = time.thread_time()
    for _ in range(n):
        f()
    print(f"torch {torch.__version__} {name}: {1e3 * (time.thread_time() - t0) / n:.3f} ms CPU")
