"""Training and inference speed of `alexnet` in fp32 and bf16 against the Keras peer
(bench/keras_peer.py: the same network, loss and optimiser on the same TensorFlow wheel), side by
side on this machine. Each configuration runs in its own process, alternating ours and Keras'
for --rounds rounds; the table shows the median images/s, the largest peak RSS and the ratios.

Run from the repository root:  .venv/bin/python bench/train_speed.py [--rounds 3]

--peer-with-our-malloc gives the Keras peer, through GLIBC_TUNABLES, the malloc settings that
`alexnet` makes for itself (src/model/heap.h), to show how much of a difference is theirs.
--with-tensorflow-lrn also runs `alexnet` on TensorFlow's own LRN kernels (--lrn-kernel
tensorflow), the ones the Keras peer runs, to show how much of a difference our LRN kernel
(src/model/lrn_kernel.h) makes.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# src/model/heap.h's mallopt calls as glibc tunables.
OUR_MALLOC = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"


def measure(cmd, env=None):
    """Runs one configuration; returns its images/s lines and the process's peak RSS in MB."""
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS (ru_maxrss, KB)
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"failed: {' '.join(cmd)}\n{err.read()}")
    speeds = {}
    for kind in ("training step", "inference"):
        m = re.search(kind + r":\s+\d+ ms, ([0-9.]+) images/s", out)
        if not m:
            sys.exit(f"no '{kind}' line in the output of {' '.join(cmd)}:\n{out}")
        speeds[kind] = float(m.group(1))
    return speeds, usage.ru_maxrss / 1024


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--alexnet", default=os.path.join(ROOT, "build/src/cli/alexnet"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=5, help="timed steps per process")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--peer-with-our-malloc", action="store_true",
                   help="run the Keras peer with alexnet's malloc settings (GLIBC_TUNABLES)")
    p.add_argument("--with-tensorflow-lrn", action="store_true",
                   help="also run alexnet with TensorFlow's LRN kernels (--lrn-kernel tensorflow)")
    a = p.parse_args()
    peer_env = dict(os.environ, GLIBC_TUNABLES=OUR_MALLOC) if a.peer_with_our_malloc else None
    peer_name = "keras (alexnet's malloc settings)" if a.peer_with_our_malloc else "keras"
    common = ["--batch", str(a.batch), "--iterations", str(a.iterations)]
    ours_only = ["--traced", "0"]  # speeds only: no per-layer tracing
    peer = [sys.executable, os.path.join(ROOT, "bench/keras_peer.py")]
    ours_tf_lrn = "alexnet-tf-lrn"  # alexnet --lrn-kernel tensorflow
    players = ("alexnet", ours_tf_lrn, "keras") if a.with_tensorflow_lrn else ("alexnet", "keras")
    configs = [(who, precision) for precision in ("fp32", "bf16") for who in players]
    results = {c: [] for c in configs}
    rss = {c: 0.0 for c in configs}
    for r in range(a.rounds):
        for who, precision in configs:
            if who == "keras":
                cmd = list(peer)
            else:
                cmd = [a.alexnet, "time"] + ours_only + (["--lrn-kernel", "tensorflow"] if who == ours_tf_lrn else [])
            cmd += ["--precision", precision] + common
            speeds, peak_mb = measure(cmd, peer_env if who == "keras" else None)
            results[(who, precision)].append(speeds)
            rss[(who, precision)] = max(rss[(who, precision)], peak_mb)
            print(f"round {r + 1}: {who:14s} {precision}: train {speeds['training step']:.1f} img/s, "
                  f"inference {speeds['inference']:.1f} img/s", flush=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    print(f"\n{cpu_name()}, {os.cpu_count()} cores, commit {commit}, batch {a.batch}, 227 x 227, 1000 classes, "
          f"median of {a.rounds} rounds of {a.iterations} steps; keras = {peer_name}"
          + (f"; {ours_tf_lrn} = alexnet --lrn-kernel tensorflow" if a.with_tensorflow_lrn else "")
          + (f", GLIBC_TUNABLES={OUR_MALLOC}" if peer_env else "") + "\n")
    med = {c: {k: statistics.median(s[k] for s in v) for k in ("training step", "inference")}
           for c, v in results.items()}
    print("| | train img/s | inference img/s | peak RSS MB |")
    print("|---|---|---|---|")
    for who, precision in configs:
        m = med[(who, precision)]
        print(f"| {who} {precision} | {m['training step']:.1f} | {m['inference']:.1f} | {rss[(who, precision)]:.0f} |")
    print()
    pairs = [("alexnet", "keras")]
    if a.with_tensorflow_lrn:
        pairs += [(ours_tf_lrn, "keras"), ("alexnet", ours_tf_lrn)]
    for precision in ("fp32", "bf16"):
        for x, y in pairs:
            mx, my = med[(x, precision)], med[(y, precision)]
            print(f"{precision}: {x} / {y}: train {mx['training step'] / my['training step']:.3f}x, "
                  f"inference {mx['inference'] / my['inference']:.3f}x")
    for who in players:
        b, f = med[(who, "bf16")], med[(who, "fp32")]
        print(f"{who}: bf16 / fp32: train {b['training step'] / f['training step']:.2f}x, "
              f"inference {b['inference'] / f['inference']:.2f}x")


if __name__ == "__main__":
    main()
