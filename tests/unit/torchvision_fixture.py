#!/usr/bin/env python3
"""torchvision_fixture.py — writes a randomly initialised torchvision ResNet's state dict
(torch.save, zip format, as torchvision publishes its weights) and, for a fixed random
input, the eval-mode logits, so the C++ tests can check that roost loads the file and
computes the same function.

    torchvision_fixture.py ARCH NUM_CLASSES OUT.pth OUT_io.pt
"""
import sys

import torch
import torchvision


def main():
    arch, num_classes, pth, io = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    torch.manual_seed(7)
    net = getattr(torchvision.models, arch)(num_classes=num_classes)
    # Non-trivial BatchNorm statistics, so eval mode exercises them.
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.1, 0.1)
    net.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        y = net(x)
    torch.save(net.state_dict(), pth)
    torch.save({"x": x, "y": y}, io)


if __name__ == "__main__":
    main()
