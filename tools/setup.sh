#!/usr/bin/env bash
# Sets up a fresh Debian machine: the Debian packages depthfold uses, pnpm, and the workspace's dependencies.
#   dataset-fashion-mnist  Fashion-MNIST in /usr/share/datasets/fashion-mnist (the default training data)
#   python3-onnx           the official ONNX checker, used by the tests
#   chromium               the browser of the demo's tests (driven by playwright-core, which downloads none), and the
#                          SwiftShader Vulkan driver on which onnxruntime-node's WebGPU provider is tested without a GPU
#   libdnnl-dev, g++, make  oneDNN and the toolchain that node-gyp builds @depthfold/backend-onednn's addon with (the
#                          default training backend; without them the build says why and training falls back to wasm)
#   python3-grpcio, python3-grpc-tools  a gRPC client that is not ours: the serve tests generate Python stubs from
#                          the protocol's .proto (grpc_tools.protoc) and call every RPC of the gRPC service
#   nghttp2-client         h2load, the C HTTP/2 load generator with which `pnpm bench:serve` loads the gRPC service
#   python3-pil            PIL, the reference @depthfold/images' tests compare their resize and sharp's decoding with,
#                          and what writes their Fashion-MNIST folder of PNG and JPEG files
#   python3-torchvision, libopenblas0-pthread  torchvision's ResNets (with python3-torch), the reference of
#                          test/torchvision.test.ts and of `pnpm bench:train --compare-torch`; OpenBLAS is numpy's
#                          BLAS, whose SGEMM gives the bench its fp32 peak
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
packages=(dataset-fashion-mnist python3-onnx chromium libdnnl-dev g++ make python3-grpcio python3-grpc-tools nghttp2-client python3-pil python3-torchvision libopenblas0-pthread)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# corepack cannot verify pnpm's signing keys on Node 20; npm installs the pinned version instead.
command -v pnpm >/dev/null || npm i -g pnpm@12.4.2 >/dev/null
pnpm install --frozen-lockfile
