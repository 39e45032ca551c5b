#!/usr/bin/env python3
"""The PyTorch reference of `pnpm bench:infer`: tools/torch_reference.py's ResNet-(6n+2) in test mode (Eq. 3 of
Huang et al. 2016, H_l = ReLU(p_l * f_l(H_{l-1}) + id(H_{l-1})), linear p_l, random weights), exported to ONNX the
way PyTorch users do (torch.onnx.export, eval mode, opset 17, dynamic batch), or timed in eager mode. The
architecture options (--depth, --shortcut, --input, --classes, --rule, --survival-prob) default to the default
`pnpm train` run's: ResNet-20, option A, 1x28x28, 10 classes, linear p_L = 0.5.

  python3 tools/torch_export_onnx.py --export-onnx /tmp/ref.onnx [--probe in.f32 --probe-logits out.f32]
  python3 tools/torch_export_onnx.py --bench --threads 2 --warmup 10 --runs-1 200 --runs-64 20

--export-onnx prints one JSON object (versions, the graph's operator counts); with --probe it also writes the eager
logits of the NCHW float32 images in that file, for the caller to compare with the exported model in its runtime.
--bench prints one JSON object: milliseconds per forward pass at batch 1 and at batch 64 (no_grad, eval mode).
"""
import argparse
import collections
import json
import os
import sys
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import ResNet, survival_probs  # noqa: E402


class TestMode(torch.nn.Module):
    """The network with its survival probabilities bound, so that forward(x) is the test-time network."""

    def __init__(self, net, probs):
        super().__init__()
        self.net, self.probs = net, probs

    def forward(self, x):
        return self.net(x, probs=self.probs)


def test_network(args):
    torch.manual_seed(args.seed)
    net = ResNet(args.depth, in_channels=args.input[0], num_classes=args.classes, shortcut=args.shortcut).eval()
    return TestMode(net, survival_probs(args.rule, len(net.blocks), args.survival_prob)).eval()


def operator_counts(path):
    try:
        import onnx
    except ImportError:
        return None
    return dict(collections.Counter(node.op_type for node in onnx.load(path).graph.node))


@torch.no_grad()
def export(args):
    model = test_network(args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shape-inference and constant-folding notes about the strided Slice
        torch.onnx.export(
            model, torch.randn(1, *args.input), args.export_onnx, opset_version=17,
            input_names=["input"], output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
    if args.probe:
        images = np.fromfile(args.probe, dtype=np.float32).reshape(-1, *args.input)
        model(torch.from_numpy(images)).numpy().astype(np.float32).tofile(args.probe_logits)
    print(json.dumps({
        "torch_version": torch.__version__,
        "opset": 17,
        "operators": operator_counts(args.export_onnx),
    }))


def time_forward(model, x, warmup, runs):
    times = []
    for i in range(warmup + runs):
        start = time.perf_counter()
        model(x)
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return times


@torch.no_grad()
def bench(args):
    model = test_network(args)
    print(json.dumps({
        "ms_batch_1": time_forward(model, torch.randn(1, *args.input), args.warmup, args.runs_1),
        "ms_batch_64": time_forward(model, torch.randn(64, *args.input), args.warmup, args.runs_64),
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
    }))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--export-onnx", metavar="PATH", help="write the test-mode network as ONNX, print JSON")
    mode.add_argument("--bench", action="store_true", help="time eager forward passes, print JSON")
    p.add_argument("--depth", type=int, default=20, help="6n+2 (default 20)")
    p.add_argument("--shortcut", choices=("A", "projection"), default="A", help="shortcut of the downsampling blocks")
    p.add_argument("--input", type=lambda s: tuple(int(v) for v in s.split(",")), default=(1, 28, 28),
                   help="channels,height,width (default 1,28,28)")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--rule", choices=("linear", "uniform", "none"), default="linear", help="survival rule")
    p.add_argument("--survival-prob", type=float, default=0.5, help="p_L (default 0.5)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--probe", help="export: NCHW float32 images (raw file) to run through the eager model")
    p.add_argument("--probe-logits", help="export: where to write their logits (raw float32)")
    p.add_argument("--threads", type=int, default=2, help="bench: torch.set_num_threads (default 2)")
    p.add_argument("--warmup", type=int, default=10, help="bench: untimed passes first, per batch size")
    p.add_argument("--runs-1", type=int, default=200, help="bench: timed passes at batch 1")
    p.add_argument("--runs-64", type=int, default=20, help="bench: timed passes at batch 64")
    args = p.parse_args(argv)
    if bool(args.probe) != bool(args.probe_logits):
        p.error("--probe and --probe-logits go together")
    torch.set_num_threads(args.threads)
    export(args) if args.export_onnx else bench(args)


if __name__ == "__main__":
    main()
