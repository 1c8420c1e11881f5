#!/usr/bin/env python3
"""PyTorch (Python) reference for bench/bench_throughput.cc: the same PreAct-ResNet-18 (with the
project's input normalisation and last-layer channel mask), the same training step and PGD-7, the
same batches, timed the same way (at least 1 s of warm-up, then whole iterations of STEPS batches
for at least MIN_TIME seconds). Written as a careful PyTorch user would: batches from pinned host
memory with non-blocking copies, the loss statistics kept on the device, SGD's default (foreach)
implementation, channels-last inputs and model for "+cl".

Prints one JSON object per line: {"what", "batch", "mode", "images_per_s"}.
usage: throughput_reference.py [--device cpu|cuda] [--width 64] [--batches 128,512]
           [--modes fp32,tf32,bf16+cl] [--steps 8] [--threads 0] [--min-time 2]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


class PreActBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        out = F.relu(self.bn1(x))
        skip = self.shortcut(out) if self.shortcut is not None else x
        out = self.conv2(F.relu(self.bn2(self.conv1(out))))
        return out + skip


class PreActResNet18(nn.Module):
    def __init__(self, width=64, classes=10):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.stem = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        blocks, cin = [], width
        for w in (width, 2 * width, 4 * width, 8 * width):
            blocks += [PreActBlock(cin, w, 1 if w == width else 2), PreActBlock(w, w, 1)]
            cin = w
        self.stages = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(8 * width)
        self.register_buffer("last_conv_mask", torch.ones(8 * width))
        self.out = nn.Linear(8 * width, classes)

    def forward(self, x):
        x = self.stages(self.stem((x - self.mean) / self.std))
        x = F.relu(self.bn(x)) * self.last_conv_mask.view(1, -1, 1, 1)
        return self.out(F.adaptive_avg_pool2d(x, 1).flatten(1))


def batches(images, labels, batch, device, channels_last, order):
    pin = device.type == "cuda"
    for begin in range(0, len(order), batch):
        idx = order[begin:begin + batch]
        x, y = images.index_select(0, idx), labels.index_select(0, idx)
        if pin:
            x, y = x.pin_memory(), y.pin_memory()
        x = x.to(device, non_blocking=True).float().div_(255)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        yield x, y.to(device, non_blocking=True)


def train_epoch(model, opt, images, labels, batch, device, channels_last):
    model.train()
    stats = torch.zeros(2, dtype=torch.float64, device=device)
    for x, y in batches(images, labels, batch, device, channels_last, torch.randperm(len(images))):
        opt.zero_grad()
        logits = model(x)
        loss_sum = F.cross_entropy(logits, y, reduction="sum")
        (loss_sum / len(y)).backward()
        opt.step()
        stats += torch.stack([loss_sum.detach().double(), logits.argmax(1).eq(y).sum().double()])
    return stats.cpu()


def pgd_all(model, images, labels, batch, device, channels_last, eps=6 / 255, steps=7):
    out = torch.empty(images.shape, dtype=torch.float32)
    for begin, (x, y) in zip(range(0, len(images), batch),
                             batches(images, labels, batch, device, channels_last, torch.arange(len(images)))):
        delta = torch.zeros_like(x)
        for _ in range(steps):
            delta.requires_grad_(True)
            loss = F.cross_entropy(model(x + delta), y, reduction="sum")
            grad, = torch.autograd.grad(loss, delta)
            delta = (delta.detach() + eps / 5 * grad.sign()).clamp(-eps, eps)
        out[begin:begin + len(x)].copy_(x + delta)
    return out


def timed(run, images_per_run, device, min_time):
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    start = time.perf_counter()
    while time.perf_counter() - start < 1.0:  # warm-up: at least one run and one second
        run()
        sync()
    runs, start = 0, time.perf_counter()
    while True:
        run()
        sync()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return runs * images_per_run / elapsed


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cpu")
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--batches", default="128,512")
    p.add_argument("--modes", default="fp32,tf32,bf16+cl")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--min-time", type=float, default=2.0)
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = torch.device("cuda:0" if a.device == "cuda" else a.device)
    for mode in a.modes.split(","):
        precision, _, cl = mode.partition("+")
        channels_last = cl == "cl"
        tf32 = precision == "tf32"
        torch.backends.cudnn.allow_tf32 = tf32
        torch.backends.cuda.matmul.allow_tf32 = tf32
        for batch in (int(b) for b in a.batches.split(",")):
            torch.manual_seed(1)
            n = batch * a.steps
            images = torch.randint(256, (n, 3, 32, 32), dtype=torch.uint8)
            labels = torch.randint(10, (n,))
            torch.manual_seed(0)
            model = PreActResNet18(a.width).to(device)
            if channels_last:
                model = model.to(memory_format=torch.channels_last)
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
                rate = timed(lambda: train_epoch(model, opt, images, labels, batch, device, channels_last),
                             n, device, a.min_time)
                print(json.dumps({"what": "train", "batch": batch, "mode": mode, "images_per_s": rate}), flush=True)
                model.eval()
                for q in model.parameters():
                    q.requires_grad_(False)
                rate = timed(lambda: pgd_all(model, images, labels, batch, device, channels_last),
                             n, device, a.min_time)
                print(json.dumps({"what": "pgd7", "batch": batch, "mode": mode, "images_per_s": rate}), flush=True)


if __name__ == "__main__":
    main()
