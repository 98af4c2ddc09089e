"""sgd_fixture.py — torch.optim.SGD in Python, for train_fused_sgd_reference_test.cc.

Usage: sgd_fixture.py CASES. Each line of CASES: momentum dampening weight_decay nesterov(0/1)
lr steps numel infile outfile. infile holds float32 values: the parameter (numel), then one
gradient per step (steps * numel). outfile receives the parameter after the steps, then the
momentum buffer (zeros without momentum), as float32.
"""
import sys

import numpy as np
import torch


def run(line):
    m, d, wd, nesterov, lr, steps, numel, infile, outfile = line.split()
    steps, numel = int(steps), int(numel)
    data = np.fromfile(infile, dtype=np.float32)
    assert data.size == (steps + 1) * numel, (infile, data.size)
    param = torch.nn.Parameter(torch.from_numpy(data[:numel].copy()))
    opt = torch.optim.SGD([param], lr=float(lr), momentum=float(m), dampening=float(d),
                          weight_decay=float(wd), nesterov=nesterov == "1")
    for s in range(steps):
        param.grad = torch.from_numpy(data[(s + 1) * numel:(s + 2) * numel].copy())
        opt.step()
    buf = opt.state[param].get("momentum_buffer")
    buf = torch.zeros(numel) if buf is None else buf
    np.concatenate([param.detach().numpy(), buf.numpy()]).astype(np.float32).tofile(outfile)


with open(sys.argv[1]) as cases:
    for line in cases:
        if line.strip():
            run(line)
