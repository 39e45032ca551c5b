#!/usr/bin/env python3
"""Logits of torchvision's own ResNet (eval mode) with a depthfold checkpoint's weights: the reference of
test/torchvision.test.ts, which proves that the resnet-imagenet family is torchvision's network and not merely
self-consistent.

Huang et al. 2016, Eq. 3 at test time: H_l = ReLU(p_l * f_l(H_{l-1}) + shortcut(H_{l-1})). torchvision's blocks
have no p_l, but f_l ends in a batch norm (bn2 of BasicBlock, bn3 of Bottleneck), so p_l * BN(x) is BN(x) with
weight and bias times p_l: the same scaling depthfold's export folds into the last conv of the branch.

  python3 tools/torchvision_logits.py job.json

job.json: {"arch": "resnet18", "num_classes": 1000, "weights": "w.safetensors", "survival_probs": [...],
           "threads": 1, "runs": [{"input": "x.f32", "shape": [N, 3, H, W], "output": "y.f32", "scale_branches": true}]}
Each run reads float32 NCHW images and writes float32 [N, num_classes] logits. `scale_branches: false` leaves the
p_l scaling out: the control that shows the comparison can fail. Prints one JSON object (versions, tensors loaded).
Needs numpy, torch and torchvision; the checkpoint is read with numpy alone.
"""
import json
import re
import struct
import sys

import numpy as np
import torch
import torchvision

# depthfold checkpoint names -> torchvision state-dict names (the parts that differ; the rest maps one to one).
STEM = {"stem.conv": "conv1", "stem.bn": "bn1"}
BN_TENSORS = {"gamma": "weight", "beta": "bias", "mean": "running_mean", "variance": "running_var"}


def read_safetensors(path):
    """float32 tensors of a safetensors file: u64 little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8: 8 + length])
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{path}: {name} is {entry['dtype']}, expected F32")
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data, dtype="<f4", count=(end - start) // 4, offset=base + start).reshape(
            entry["shape"]
        )
    return tensors


def torch_module(layer):
    """`stem.conv` -> `conv1`; `stage2.block0.proj_bn` -> `layer2.0.downsample.1`; `stage1.block1.conv2` -> `layer1.1.conv2`."""
    if layer in STEM:
        return STEM[layer]
    m = re.fullmatch(r"stage(\d+)\.block(\d+)\.(conv\d|bn\d|proj|proj_bn)", layer)
    if not m:
        raise ValueError(f"no torchvision module for depthfold layer {layer}")
    part = {"proj": "downsample.0", "proj_bn": "downsample.1"}.get(m.group(3), m.group(3))
    return f"layer{m.group(1)}.{int(m.group(2))}.{part}"


def state_dict_of(tensors):
    """The checkpoint's tensors under torchvision's names and layouts. depthfold names a conv's filter after the layer
    (`stage1.block0.conv1`, HWIO), a batch norm's four tensors `<layer>.gamma|beta|mean|variance`, the dense layer's
    `head.weight` ([in, out]) and `head.bias`; torch wants OIHW filters and fc.weight as [out, in]."""
    state = {}
    for name, value in tensors.items():
        layer, _, key = name.rpartition(".")
        if layer == "head":
            state[f"fc.{key}"] = value.T if key == "weight" else value
        elif key in BN_TENSORS:
            state[f"{torch_module(layer)}.{BN_TENSORS[key]}"] = value
        elif value.ndim == 4:
            state[f"{torch_module(name)}.weight"] = value.transpose(3, 2, 0, 1)
        else:
            raise ValueError(f"no torchvision name for depthfold tensor {name} {list(value.shape)}")
    return {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in state.items()}


def last_branch_norms(net):
    """The batch norm that ends each block's branch, l = 1..L in torchvision's order (layer1.0, layer1.1, ...)."""
    norms = []
    for stage in (net.layer1, net.layer2, net.layer3, net.layer4):
        for block in stage:
            norms.append(block.bn3 if isinstance(block, torchvision.models.resnet.Bottleneck) else block.bn2)
    return norms


def main(argv):
    with open(argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(job.get("threads", 1))
    net = getattr(torchvision.models, job["arch"])(num_classes=job["num_classes"])
    state = state_dict_of(read_safetensors(job["weights"]))
    # strict: every tensor of torchvision's net is given and none is left over, shapes checked; the BN step counters
    # (num_batches_tracked) are the one thing depthfold does not store, and eval mode never reads them.
    expected = {k for k in net.state_dict() if not k.endswith("num_batches_tracked")}
    if set(state) != expected:
        raise ValueError(f"missing {sorted(expected - set(state))}, unexpected {sorted(set(state) - expected)}")
    net.load_state_dict(state, strict=False)
    norms = last_branch_norms(net)
    probs = job["survival_probs"]
    if len(probs) != len(norms):
        raise ValueError(f"{len(probs)} survival probabilities for {len(norms)} blocks")
    net.eval()
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d) and m.eps != 1e-5:
            raise ValueError(f"batch norm eps {m.eps}, depthfold's is 1e-5")
    plain = {id(bn): (bn.weight.detach().clone(), bn.bias.detach().clone()) for bn in norms}
    for run in job["runs"]:
        with torch.no_grad():
            for bn, p in zip(norms, probs):
                weight, bias = plain[id(bn)]
                scale = p if run["scale_branches"] else 1.0
                bn.weight.copy_(weight * scale)
                bn.bias.copy_(bias * scale)
            x = np.fromfile(run["input"], dtype="<f4").reshape(run["shape"])
            logits = net(torch.from_numpy(x)).numpy().astype("<f4")
        logits.tofile(run["output"])
    print(json.dumps({
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "tensors": len(state),
        "blocks": len(norms),
    }))


if __name__ == "__main__":
    main(sys.argv)
