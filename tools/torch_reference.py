#!/usr/bin/env python3
"""PyTorch (CPU) reference for depthfold: the same networks with stochastic depth and the same training step.

Huang et al. 2016, Eq. 2 and 3:
  training: H_l = ReLU(b_l * f_l(H_{l-1}) + shortcut(H_{l-1})), b_l ~ Bernoulli(p_l) once per block per mini-batch;
            a dropped block runs only its shortcut (the branch is skipped, not multiplied by 0);
  test:     H_l = ReLU(p_l * f_l(H_{l-1}) + shortcut(H_{l-1})), batch norm with running statistics.
Survival rules: linear p_l = 1 - (l/L)(1 - p_L), uniform p_l = p_L, none p_l = 1. Like depthfold (and unlike timm's
drop path, which scales by 1/p_l in training), the branch is scaled by p_l at test time, where the export folds it.
Two families, as packages/core/src/families/ has them:
  resnet-cifar     ResNet-(6n+2): f_l = conv3x3-BN-ReLU-conv3x3-BN, 16/32/64 channels (times a width multiplier),
                   option-A shortcut x[:, :, ::s, ::s] zero-padded at the end of the channel axis (or 1x1 conv + BN),
                   conv init N(0, 2/(k*k*out)), BN gamma 1 beta 0, PyTorch's default linear init;
  resnet-imagenet  torchvision's own resnet18/34/50/101/152 and wide_resnet50_2/101_2 (v1.5: stride on the 3x3
                   conv; torchvision's init), with the gating above put around its blocks: f_l is the block's
                   conv/bn path, the shortcut its `downsample` (or the identity). `--stem small` swaps the 7x7/2 conv
                   and max pool for a 3x3/1 conv, as depthfold's small stem.
The training step mirrors packages/train/src: BN eps 1e-5 and momentum 0.1, SGD with Nesterov momentum 0.9 and
weight decay 1e-4 on conv and linear weights only, cosine learning rate from 0.1 updated every step. A dropped
block's parameters get no gradient (grads are set to None), so SGD skips them: no decay, momentum kept.
`--autocast bf16` runs forward and loss under torch.autocast("cpu", dtype=torch.bfloat16) (backward follows the
dtypes autocast chose, as PyTorch recommends, outside the context); weights and SGD stay fp32.

  python3 tools/torch_reference.py --bench --arch resnet50 --input 3,64,64 --batch-size 32 --threads 2
  python3 tools/torch_reference.py --bench --depth 56 --rule linear --survival-prob 0.5 --threads 2
  python3 tools/torch_reference.py --bench --family resnet-imagenet --depth 18 --stem small --input 3,32,32
  python3 tools/torch_reference.py --train --depth 20 --epochs 1

--bench prints one JSON object; --train (Fashion-MNIST, 1x28x28) prints one JSON line per epoch. Needs torch and
numpy, and torchvision for the resnet-imagenet family.
"""
import argparse
import contextlib
import gzip
import json
import math
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

WIDTHS = (16, 32, 64)
STRIDES = (1, 2, 2)
FAMILIES = ("resnet-cifar", "resnet-imagenet")
# torchvision's names, as depthfold's resnet-imagenet family offers them: (depth, width multiplier).
IMAGENET_NETWORKS = {
    "resnet18": (18, 1), "resnet34": (34, 1), "resnet50": (50, 1), "resnet101": (101, 1), "resnet152": (152, 1),
    "wide_resnet50_2": (50, 2), "wide_resnet101_2": (101, 2),
}
BN_EPS = 1e-5
BN_MOMENTUM = 0.1
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_MEAN = 0.2860
FASHION_MNIST_STD = 0.3530


def survival_probs(rule, num_blocks, p_last):
    """p_l for l = 1..L (packages/core/src/survival.ts)."""
    if rule == "linear":
        return [1 - (l / num_blocks) * (1 - p_last) for l in range(1, num_blocks + 1)]
    if rule == "uniform":
        return [p_last] * num_blocks
    if rule == "none":
        return [1.0] * num_blocks
    raise ValueError(f"unknown survival rule {rule!r}")


def conv3x3(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


def bn(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class Block(nn.Module):
    """One residual block; `shortcut` is 'identity', 'A' or 'projection'."""

    def __init__(self, cin, cout, stride, shortcut):
        super().__init__()
        self.stride, self.extra, self.kind = stride, cout - cin, shortcut
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), bn(cout)
        self.conv2, self.bn2 = conv3x3(cout, cout, 1), bn(cout)
        if shortcut == "projection":
            self.proj = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
            self.proj_bn = bn(cout)

    def shortcut(self, x):
        if self.kind == "identity":
            return x
        if self.kind == "projection":
            return self.proj_bn(self.proj(x))
        h = x[:, :, :: self.stride, :: self.stride] if self.stride != 1 else x
        return F.pad(h, (0, 0, 0, 0, 0, self.extra)) if self.extra > 0 else h  # zeros after the last channel

    def branch(self, x):
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def forward(self, x, gate=True, scale=1.0):
        """Training: `gate` says whether the branch runs. Test (eval mode): the branch is scaled by `scale` = p_l."""
        identity = self.shortcut(x)
        if self.training and not gate:
            # The input is a ReLU output and option A keeps it >= 0, so ReLU(id) = id except after a projection.
            return F.relu(identity) if self.kind == "projection" else identity
        f = self.branch(x)
        return F.relu((f if scale == 1.0 else f * scale) + identity)


class ResNet(nn.Module):
    """ResNet-(6n+2) of the paper's CIFAR experiments: stem, 3 stages of n blocks (16/32/64), pool, linear head."""

    def __init__(self, depth, in_channels=1, num_classes=10, shortcut="A", width_multiplier=1):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError("depth must be 6n+2 >= 8")
        n = (depth - 2) // 6
        widths = [w * width_multiplier for w in WIDTHS]
        self.stem, self.stem_bn = conv3x3(in_channels, widths[0], 1), bn(widths[0])
        blocks, cin = [], widths[0]
        for width, stage_stride in zip(widths, STRIDES):
            for b in range(n):
                stride = stage_stride if b == 0 else 1
                kind = "identity" if stride == 1 and cin == width else shortcut
                blocks.append(Block(cin, width, stride, kind))
                cin = width
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(widths[-1], num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                k = m.kernel_size[0] * m.kernel_size[1]
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / (k * m.out_channels)))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x, gates=None, probs=None):
        """Training: `gates[l-1]` says whether block l runs. Eval: each branch is scaled by `probs[l-1]`."""
        h = F.relu(self.stem_bn(self.stem(x)))
        for i, block in enumerate(self.blocks):
            if self.training:
                h = block(h, gate=gates[i])
            else:
                h = block(h, scale=probs[i])
        return self.head(h.mean(dim=(2, 3)))


class TorchvisionResNet(nn.Module):
    """torchvision's ResNet with stochastic depth around its blocks (BasicBlock and Bottleneck alike)."""

    def __init__(self, depth, in_channels=3, num_classes=10, width_multiplier=1, stem="standard"):
        super().__init__()
        import torchvision  # only this family needs it

        name = next((n for n, v in IMAGENET_NETWORKS.items() if v == (depth, width_multiplier)), None)
        if name is None:
            raise ValueError(f"torchvision has no ResNet of depth {depth} and width x{width_multiplier}")
        self.net = getattr(torchvision.models, name)(num_classes=num_classes)
        if stem == "small":
            self.net.conv1 = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
            self.net.maxpool = nn.Identity()
        elif in_channels != 3:
            self.net.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        for m in self.net.modules():  # torchvision's BN defaults are depthfold's; checked, not assumed
            if isinstance(m, nn.BatchNorm2d) and (m.eps != BN_EPS or m.momentum != BN_MOMENTUM):
                raise ValueError(f"torchvision batch norm eps {m.eps} momentum {m.momentum}")
        # A plain list (not a ModuleList): the blocks are registered once, under net.layerN.
        self.blocks = [b for layer in (self.net.layer1, self.net.layer2, self.net.layer3, self.net.layer4) for b in layer]

    @staticmethod
    def branch(block, x):
        """f_l: the block's conv/bn path up to its last batch norm (bn2 of BasicBlock, bn3 of Bottleneck)."""
        h = F.relu(block.bn1(block.conv1(x)))
        if hasattr(block, "conv3"):
            return block.bn3(block.conv3(F.relu(block.bn2(block.conv2(h)))))
        return block.bn2(block.conv2(h))

    def forward(self, x, gates=None, probs=None):
        """Training: `gates[l-1]` says whether block l runs. Eval: each branch is scaled by `probs[l-1]`."""
        n = self.net
        h = n.maxpool(F.relu(n.bn1(n.conv1(x))))
        for i, block in enumerate(self.blocks):
            identity = h if block.downsample is None else block.downsample(h)
            if self.training and not gates[i]:
                # The input is a ReLU output, so ReLU(id) = id except after a projection.
                h = identity if block.downsample is None else F.relu(identity)
                continue
            f = self.branch(block, h)
            scale = 1.0 if self.training else probs[i]
            h = F.relu((f if scale == 1.0 else f * scale) + identity)
        return n.fc(torch.flatten(n.avgpool(h), 1))


def build_net(args):
    """The network that --family/--arch and the options name, on --input channels with --classes outputs."""
    channels = args.input[0]
    if args.family == "resnet-imagenet":
        return TorchvisionResNet(args.depth, channels, args.classes, args.width_multiplier, args.stem)
    return ResNet(args.depth, channels, args.classes, args.shortcut, args.width_multiplier)


def resolve_arch(args):
    """--arch as depthfold names networks: torchvision's names are resnet-imagenet, other `resnetN` resnet-cifar."""
    if args.arch is None:
        return
    if args.arch in IMAGENET_NETWORKS:
        args.family = "resnet-imagenet"
        args.depth, args.width_multiplier = IMAGENET_NETWORKS[args.arch]
    elif args.arch.startswith("resnet") and args.arch[6:].isdigit():
        args.family, args.depth = "resnet-cifar", int(args.arch[6:])
    else:
        raise SystemExit(f"--arch: one of {', '.join(IMAGENET_NETWORKS)} or resnet<6n+2>, received {args.arch}")


def autocast_context(mode):
    """torch.autocast on the CPU for `bf16`; nothing for `none`."""
    if mode == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def make_optimizer(net, momentum=0.9, weight_decay=1e-4):
    """SGD, Nesterov; weight decay on conv and linear weights only (not BN, not the head's bias)."""
    decayed, plain = [], []
    for module in net.modules():
        for name, p in module.named_parameters(recurse=False):
            is_weight = name == "weight" and isinstance(module, (nn.Conv2d, nn.Linear))
            (decayed if is_weight else plain).append(p)
    groups = [{"params": decayed, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=0.1, momentum=momentum, nesterov=True)


def cosine_lr(peak, t, epochs):
    """Cosine annealing to 0 at fractional epoch t (packages/train/src/lr-schedule.ts, no warm-up)."""
    return 0.5 * peak * (1 + math.cos(math.pi * min(1.0, t / epochs)))


def train_step(net, opt, x, y, gates, lr, autocast="none"):
    """Forward, backward and one SGD step; returns (loss, correct) as tensors."""
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad(set_to_none=True)  # a dropped block's parameters keep grad None: SGD skips them entirely
    with autocast_context(autocast):
        logits = net(x, gates=gates)
        loss = F.cross_entropy(logits, y)
    loss.backward()
    opt.step()
    return loss.detach(), (logits.argmax(1) == y).sum()


def percentile(values, q):
    return float(np.percentile(np.asarray(values), q))


def peak_rss_mb():
    """This process's peak resident set, in MB: Linux's VmHWM, the high-water mark of its own memory since exec.

    ru_maxrss would not do: Linux carries it across fork and exec, so a child of a large process (the Node bench that
    spawns this script) reports its parent's resident set at the fork whenever its own is smaller.
    """
    with contextlib.suppress(OSError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    # No /proc: getrusage, in bytes on macOS and KiB elsewhere.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def bench(args):
    """Timed training steps on random data; prints one JSON object."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = build_net(args)
    net.train()
    opt = make_optimizer(net)
    probs = survival_probs(args.rule, len(net.blocks), args.survival_prob)
    x = torch.randn(args.batch_size, *args.input)
    y = torch.randint(0, args.classes, (args.batch_size,))
    times, blocks_run = [], []
    for step in range(args.warmup + args.steps):
        gates = [bool(g) for g in rng.random(len(probs)) < np.asarray(probs)]
        start = time.perf_counter()
        loss, _ = train_step(net, opt, x, y, gates, 0.1, args.autocast)
        loss.item()
        elapsed = (time.perf_counter() - start) * 1000
        if step >= args.warmup:
            times.append(elapsed)
            blocks_run.append(sum(gates))
    median = percentile(times, 50)
    print(json.dumps({
        "family": args.family,
        "depth": args.depth,
        "input": args.input,
        "autocast": args.autocast,
        "blocks": len(probs),
        "rule": args.rule,
        "survival_prob": args.survival_prob,
        "batch_size": args.batch_size,
        "images_per_second": args.batch_size / (median / 1000),
        "ms_per_step_median": median,
        "ms_per_step_p10": percentile(times, 10),
        "ms_per_step_p90": percentile(times, 90),
        "ms_per_step": times,
        "blocks_run": blocks_run,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "peak_rss_mb": peak_rss_mb(),
    }))


def read_idx(path):
    """An IDX file (gzip-compressed) as a numpy array: magic 0x00000800 | ndim, big-endian sizes, uint8 data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_fashion_mnist(directory):
    def split(prefix):
        images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"))
        labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"))
        return images, labels.astype(np.int64)

    return split("train"), split("t10k")


def normalise(images):
    """uint8 [N, H, W] -> float32 [N, 1, H, W], (x/255 - mean) / std."""
    return ((images.astype(np.float32) / 255 - FASHION_MNIST_MEAN) / FASHION_MNIST_STD)[:, None]


def augment(batch, pad, flip, rng):
    """Zero-pad (raw pixel 0) by `pad`, crop back at a random offset, then flip with probability 0.5, per image."""
    n, h, w = batch.shape
    padded = np.pad(batch, ((0, 0), (pad, pad), (pad, pad)))
    out = np.empty_like(batch)
    offsets = rng.integers(0, 2 * pad + 1, size=(n, 2))
    flips = rng.random(n) < 0.5
    for i in range(n):
        dy, dx = offsets[i]
        crop = padded[i, dy: dy + h, dx: dx + w]
        out[i] = crop[:, ::-1] if flip and flips[i] else crop
    return out


@torch.no_grad()
def evaluate(net, images, labels, probs, batch_size=500):
    net.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(images), batch_size):
        x = torch.from_numpy(normalise(images[start: start + batch_size]))
        y = torch.from_numpy(labels[start: start + batch_size])
        logits = net(x, probs=probs)
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += (logits.argmax(1) == y).sum().item()
    net.train()
    return loss_sum / len(images), 1 - correct / len(images)


def train(args):
    """Trains on Fashion-MNIST; prints one JSON line per epoch."""
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    (train_x, train_y), (test_x, test_y) = load_fashion_mnist(args.data)
    if args.train_limit:
        keep = np.sort(rng.permutation(len(train_x))[: args.train_limit])
        train_x, train_y = train_x[keep], train_y[keep]
    if args.input != [1, 28, 28]:
        raise SystemExit(f"--train: Fashion-MNIST is 1,28,28; received --input {','.join(map(str, args.input))}")
    net = build_net(args)
    net.train()
    opt = make_optimizer(net)
    probs = survival_probs(args.rule, len(net.blocks), args.survival_prob)
    steps_per_epoch = len(train_x) // args.batch_size  # the last partial batch is dropped, as in depthfold
    for epoch in range(args.epochs):
        order = rng.permutation(len(train_x))
        loss_sum, correct_sum, blocks_run = 0.0, 0, 0
        start = time.perf_counter()
        for s in range(steps_per_epoch):
            idx = order[s * args.batch_size: (s + 1) * args.batch_size]
            x = torch.from_numpy(normalise(augment(train_x[idx], args.pad_crop, not args.no_flip, rng)))
            y = torch.from_numpy(train_y[idx])
            gates = [bool(g) for g in rng.random(len(probs)) < np.asarray(probs)]
            blocks_run += sum(gates)
            lr = cosine_lr(args.lr, epoch + s / steps_per_epoch, args.epochs)
            loss, correct = train_step(net, opt, x, y, gates, lr, args.autocast)
            loss_sum += loss.item()
            correct_sum += correct.item()
            if args.progress and (s + 1) % 50 == 0:
                print(f"step {s + 1}/{steps_per_epoch} loss {loss_sum / (s + 1):.4f}", file=sys.stderr, flush=True)
        seconds = time.perf_counter() - start
        test_loss, test_error = evaluate(net, test_x[: args.test_limit], test_y[: args.test_limit], probs)
        print(json.dumps({
            "epoch": epoch + 1,
            "learning_rate": lr,
            "train_loss": loss_sum / steps_per_epoch,
            "train_error": 1 - correct_sum / (steps_per_epoch * args.batch_size),
            "test_loss": test_loss,
            "test_error": test_error,
            "test_examples": len(test_x[: args.test_limit]),
            "seconds": seconds,
            "images_per_second": steps_per_epoch * args.batch_size / seconds,
            "realised_depth": blocks_run / steps_per_epoch,
            "expected_depth": sum(probs),
            "depth": args.depth,
            "rule": args.rule,
            "survival_prob": args.survival_prob,
            "threads": torch.get_num_threads(),
            "torch_version": torch.__version__,
        }), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--bench", action="store_true", help="time training steps on random data, print JSON")
    mode.add_argument("--train", action="store_true", help="train on Fashion-MNIST, print one JSON line per epoch")
    p.add_argument("--arch", help="a network by depthfold's name: resnet20, resnet56, resnet18, resnet50, wide_resnet50_2")
    p.add_argument("--family", choices=FAMILIES, default="resnet-cifar", help="network family (default resnet-cifar)")
    p.add_argument("--depth", type=int, default=20, help="resnet-cifar: 6n+2; resnet-imagenet: 18/34/50/101/152")
    p.add_argument("--shortcut", choices=("A", "projection"), default="A", help="resnet-cifar: shortcut (default A)")
    p.add_argument("--width-multiplier", type=int, default=1, help="channels (cifar) or bottleneck width (imagenet)")
    p.add_argument("--stem", choices=("standard", "small"), default="standard", help="resnet-imagenet: stem")
    p.add_argument("--input", type=lambda v: [int(x) for x in v.split(",")], default=[1, 28, 28],
                   help="C,H,W of the images (default 1,28,28)")
    p.add_argument("--classes", type=int, default=10, help="classes (default 10)")
    p.add_argument("--autocast", choices=("none", "bf16"), default="none",
                   help="bf16: forward and loss under torch.autocast('cpu', dtype=torch.bfloat16)")
    p.add_argument("--rule", choices=("linear", "uniform", "none"), default="linear", help="survival rule")
    p.add_argument("--survival-prob", type=float, default=0.5, help="p_L (default 0.5)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=int, default=3, help="bench: untimed steps first")
    p.add_argument("--steps", type=int, default=20, help="bench: timed steps")
    p.add_argument("--epochs", type=int, default=1, help="train: epochs")
    p.add_argument("--lr", type=float, default=0.1, help="train: peak learning rate (cosine)")
    p.add_argument("--pad-crop", type=int, default=2, help="train: pad-and-crop shift")
    p.add_argument("--no-flip", action="store_true", help="train: no horizontal flips")
    p.add_argument("--data", default=FASHION_MNIST_DIR, help="train: Fashion-MNIST directory (IDX .gz files)")
    p.add_argument("--train-limit", type=int, default=0, help="train: a random subset of this many images")
    p.add_argument("--test-limit", type=int, default=None, help="train: evaluate on the first this many images")
    p.add_argument("--progress", action="store_true", help="train: loss every 50 steps on stderr")
    args = p.parse_args(argv)
    resolve_arch(args)
    torch.set_num_threads(args.threads)
    bench(args) if args.bench else train(args)


if __name__ == "__main__":
    main()
