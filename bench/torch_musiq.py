#!/usr/bin/env python3
"""The PyTorch side of `npm run bench:model -- --vs-torch`: MUSIQ's forward pass with random
weights in the shapes of the full-size checkpoint (spec §3: the patch stem, the 16384→384
embedding, 14 pre-LN encoder blocks, the head), on CPU (or with --device cuda on an NVIDIA GPU,
float32 with TF32 off, as our kernels compute), so bench/model.ts can print our time over
PyTorch's measured in the same run on the same cores or the same GPU. Only the cost is meant to match:
the weights are random and preprocessing is not run (bench/model.ts does not time it either).

Needs PyTorch (Debian: `apt install python3-torch`, 1.13). Prints one JSON line:
{"torch": version, "device": name, "threads": n, "tokens": T, "seconds": [per run...]}.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--tokens", type=int, required=True, help="patches over all scales (CLS not counted)")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--threads", type=int, default=0, help="0: torch's default")
ap.add_argument("--device", default="cpu", help="cpu or cuda")
args = ap.parse_args()
if args.threads:
    torch.set_num_threads(args.threads)
if args.device != "cpu":
    # Our kernels are plain float32; TF32 would round the inputs of every product to 10 bits.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_default_device(args.device)  # PyTorch 2.0 and later; the CPU path runs on 1.13 too
torch.manual_seed(0)

HIDDEN, HEADS, MLP, LAYERS, W = 384, 6, 1152, 14, 64


def rand(*shape, scale=0.05):
    return torch.randn(*shape) * scale


def gn(c):
    return rand(c, scale=1.0), rand(c)


stem = {
    "root": rand(W, 3, 7, 7), "gn_root": gn(W),
    "proj": rand(4 * W, W, 1, 1), "gn_proj": gn(4 * W),
    "conv1": rand(W, W, 1, 1), "gn1": gn(W),
    "conv2": rand(W, W, 3, 3), "gn2": gn(W),
    "conv3": rand(4 * W, W, 1, 1), "gn3": gn(4 * W),
}
emb_w, emb_b = rand(HIDDEN, 16384, scale=0.01), rand(HIDDEN)
cls = rand(1, 1, HIDDEN)
layers = [{
    "ln0": gn(HIDDEN), "qkv": (rand(3 * HIDDEN, HIDDEN), rand(3 * HIDDEN)), "out": (rand(HIDDEN, HIDDEN), rand(HIDDEN)),
    "ln2": gn(HIDDEN), "mlp0": (rand(MLP, HIDDEN), rand(MLP)), "mlp1": (rand(HIDDEN, MLP), rand(HIDDEN)),
} for _ in range(LAYERS)]
norm, head = gn(HIDDEN), (rand(1, HIDDEN), rand(1))


def patch_stem(x):  # [P, 3, 32, 32] → [P, 16384] in (h, w, c) order
    x = F.conv2d(F.pad(x, (2, 3, 2, 3)), stem["root"], stride=2)
    x = F.relu(F.group_norm(x, 32, *stem["gn_root"], eps=1e-6))
    x = F.max_pool2d(F.pad(x, (0, 1, 0, 1)), 3, stride=2)
    res = F.group_norm(F.conv2d(x, stem["proj"]), 32, *stem["gn_proj"], eps=1e-4)
    y = F.relu(F.group_norm(F.conv2d(x, stem["conv1"]), 32, *stem["gn1"], eps=1e-4))
    y = F.relu(F.group_norm(F.conv2d(y, stem["conv2"], padding=1), 32, *stem["gn2"], eps=1e-4))
    y = F.group_norm(F.conv2d(y, stem["conv3"]), 32, *stem["gn3"], eps=1e-4)
    return F.relu(y + res).permute(0, 2, 3, 1).reshape(x.shape[0], -1)


def block(x, l):
    t = x.shape[0]
    q, k, v = F.linear(F.layer_norm(x, (HIDDEN,), *l["ln0"], eps=1e-6), *l["qkv"]).view(t, 3, HEADS, -1).permute(1, 2, 0, 3)
    a = torch.softmax(q @ k.transpose(-1, -2) / (HIDDEN // HEADS) ** 0.5, dim=-1) @ v
    x = x + F.linear(a.permute(1, 0, 2).reshape(t, HIDDEN), *l["out"])
    h = F.gelu(F.linear(F.layer_norm(x, (HIDDEN,), *l["ln2"], eps=1e-6), *l["mlp0"]), approximate="tanh")
    return x + F.linear(h, *l["mlp1"])


def forward(patches):
    x = torch.cat([cls[0], F.linear(patch_stem(patches), emb_w, emb_b)])
    for l in layers:
        x = block(x, l)
    return F.linear(F.layer_norm(x[:1], (HIDDEN,), *norm, eps=1e-6), *head)


def sync():
    if args.device != "cpu":
        torch.cuda.synchronize()


patches = torch.rand(args.tokens, 3, 32, 32) * 2 - 1
seconds = []
with torch.inference_mode():
    forward(patches)  # warm-up
    sync()
    for _ in range(args.reps):
        t0 = time.perf_counter()
        forward(patches).tolist()  # the score read back to the host, as ours is
        seconds.append(time.perf_counter() - t0)
name = "cpu" if args.device == "cpu" else torch.cuda.get_device_name()
print(json.dumps({"torch": torch.__version__, "device": name, "threads": torch.get_num_threads(), "tokens": args.tokens, "seconds": seconds}))
