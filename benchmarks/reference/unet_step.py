#!/usr/bin/python3
"""The PyTorch + diffusers side of the `unet-step` benchmark, run on the same machine: diffusers v0.21.4's
UNet2DConditionModel with the SD1.5 config, all weights trainable, batch 1, 32x32 latents, 77x768 text states;
forward (no grad) and forward+backward of an MSE loss, median of --repeats after one warm-up, plus the large-matmul
peak. Writes the figures as JSON (--json FILE) for

  dotnet NotebookTrainer.Benchmarks.dll unet-step --reference FILE

The sources come from tests/fixtures/reference/tools/fetch_sources.sh (--sources DIR, default /tmp/ref). Debian's
python3-torch links the reference BLAS, which runs a matmul at ~3 GFLOP/s; install libopenblas0-pthread first so
torch gets an optimised BLAS, as pip wheels (MKL) have."""
import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--dtype", choices=["fp32", "bf16"], nargs="+", default=["fp32"])
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--json", help="write the results here")
args, _ = parser.parse_known_args()

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "fixtures", "reference", "tools"))
import reference  # noqa: E402,F401  (puts the pinned diffusers sources and the import stubs on sys.path)
import torch  # noqa: E402
from diffusers.models.unet_2d_condition import UNet2DConditionModel  # noqa: E402

FORWARD_FLOPS = 180e9
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def median_seconds(action, repeats):
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def matmul_peak(dtype, n):
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n ** 3 / median_seconds(lambda: a @ b, 5)


torch.set_num_threads(args.threads)
with open("/proc/self/maps") as maps:  # the BLAS actually loaded (Debian's torch says "generic" and takes whichever is installed)
    blas = sorted({line.split()[-1].split("/")[-1] for line in maps if "blas" in line.lower() or "mkl" in line.lower()}) or ["built in"]
results = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas}
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS {', '.join(blas)}, oneDNN {torch.backends.mkldnn.is_available()}")
for name in args.dtype:
    dtype = DTYPES[name]
    peak = matmul_peak(dtype, 2048 if dtype == torch.float32 else 512)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8).to(dtype)
    latents, text = torch.randn(1, 4, 32, 32, dtype=dtype), torch.randn(1, 77, 768, dtype=dtype)
    timestep, target = torch.tensor([500]), torch.randn(1, 4, 32, 32)

    def forward():
        with torch.no_grad():
            unet(latents, timestep, text)

    def step():
        unet.zero_grad(set_to_none=True)
        torch.nn.functional.mse_loss(unet(latents, timestep, text).sample.float(), target).backward()

    forward_s = median_seconds(forward, args.repeats)
    step_s = median_seconds(step, args.repeats)
    results[name] = {"forward_s": forward_s, "step_s": step_s, "matmul_peak_flops": peak}
    print(f"{name:5} forward {forward_s:.2f} s, fwd+bwd {step_s:.2f} s ({3 * FORWARD_FLOPS / step_s / 1e9:.0f} GFLOP/s, "
          f"{3 * FORWARD_FLOPS / step_s / peak:.0%} of {peak / 1e9:.0f} GFLOP/s matmul peak)", flush=True)
    del unet
if args.json:
    with open(args.json, "w") as f:
        json.dump(results, f, indent=1)
