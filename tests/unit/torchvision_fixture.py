#!/usr/bin/env python3
"""torchvision_fixture.py — writes a randomly initialised torchvision ResNet's state dict
(torch.save, zip format, as torchvision publishes its weights) and, for a fixed random
input, the eval-mode logits, so the C++ tests can check that roost loads the file and
computes the same function.

    torchvision_fixture.py ARCH NUM_CLASSES OUT.pth OUT_io.pt [--sgd-step OUT_after.pth]

With --sgd-step it also takes one training step from the written weights: train mode,
forward on a fixed batch with fixed labels, cross-entropy, backward, one step of
torch.optim.SGD(lr=0.1, momentum=0.9); OUT_after.pth is the state dict after the step
(parameters and BatchNorm running statistics) and OUT_io.pt gains the batch ("train_x",
"train_labels") and the loss ("train_loss").
"""
import argparse

import torch
import torch.nn.functional as F
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("arch")
    ap.add_argument("num_classes", type=int)
    ap.add_argument("pth")
    ap.add_argument("io")
    ap.add_argument("--sgd-step", metavar="OUT_after.pth")
    args = ap.parse_args()

    torch.manual_seed(7)
    net = getattr(torchvision.models, args.arch)(num_classes=args.num_classes)
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
    torch.save(net.state_dict(), args.pth)
    io = {"x": x, "y": y}

    if args.sgd_step:
        # Four images: layer4 sees 2x2 maps, so each BatchNorm channel averages 16 values.
        train_x = torch.randn(4, 3, 64, 64)
        train_labels = torch.randint(0, args.num_classes, (4,))
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad()
        loss = F.cross_entropy(net(train_x), train_labels)
        loss.backward()
        opt.step()
        torch.save(net.state_dict(), args.sgd_step)
        io.update(train_x=train_x, train_labels=train_labels, train_loss=loss.detach().reshape(1))
    torch.save(io, args.io)


if __name__ == "__main__":
    main()
