#!/usr/bin/env python3
"""The machine's fp32 GEMM peak, for `pnpm bench:train`'s "fraction of peak": a square float32 matrix product
(C = A @ B, 2 n^3 FLOP) through numpy's BLAS (OpenBLAS on Debian: libopenblas0-pthread) and, where torch imports,
torch.matmul, each timed `--runs` times after one untimed run; the median of each.

  OPENBLAS_NUM_THREADS=2 python3 tools/gemm_peak.py --size 2048 --runs 5 --threads 2

OpenBLAS reads its thread count from the environment when it loads, so the caller sets OPENBLAS_NUM_THREADS (and
OMP_NUM_THREADS) to --threads; the count OpenBLAS reports it uses is printed, with its build and core type
(OPENBLAS_CORETYPE can pin an older core's kernels). Prints one JSON object; needs numpy only.
"""
import argparse
import ctypes
import json
import time

import numpy as np


def openblas():
    """numpy's OpenBLAS, found among the libraries this process has mapped; None where numpy uses another BLAS."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "openblas" in line and line.split()[-1].startswith("/")}
    for path in sorted(paths):
        lib = ctypes.CDLL(path)
        if hasattr(lib, "openblas_get_num_threads"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return {
                "library": path,
                "threads": lib.openblas_get_num_threads(),
                "config": lib.openblas_get_config().decode(),
                "core": lib.openblas_get_corename().decode(),
            }
    return None


def median_gflops(matmul, n, runs):
    matmul()  # first touch, thread pool start
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        matmul()
        seconds.append(time.perf_counter() - start)
    return 2 * n**3 / float(np.median(seconds)) / 1e9, [2 * n**3 / s / 1e9 for s in seconds]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=2048, help="n of the n x n matrices (default 2048)")
    p.add_argument("--runs", type=int, default=5, help="timed products per library (default 5)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads; OpenBLAS's comes from the env")
    p.add_argument("--no-torch", action="store_true", help="numpy only")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((args.size, args.size), dtype=np.float32)
    b = rng.standard_normal((args.size, args.size), dtype=np.float32)
    out = {"size": args.size, "runs": args.runs, "numpy_version": np.__version__}
    out["numpy_gflops"], out["numpy_gflops_runs"] = median_gflops(lambda: a @ b, args.size, args.runs)
    out["openblas"] = openblas()
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            pass
        else:
            torch.set_num_threads(args.threads)
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            out["torch_version"] = torch.__version__
            out["torch_threads"] = torch.get_num_threads()
            out["torch_gflops"], out["torch_gflops_runs"] = median_gflops(lambda: torch.matmul(ta, tb), args.size, args.runs)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
