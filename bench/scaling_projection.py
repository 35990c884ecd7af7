#!/usr/bin/env python3
"""Projects the step time of synchronous data-parallel AlexNet training on N machines.

Ring all-reduce sends and receives 2 (N - 1) / N times the gradient per worker and step; each of
N machines computes the forward and backward pass of batch / N images. Given the measured step
time of one machine on the whole batch, prints per N and link speed: compute, communication,
the step time without overlap (compute + communication, an upper bound) and with perfect overlap
(the larger of the two, a lower bound: TensorFlow can start fc8's, fc7's and fc6's all-reduce
while the convolutions' backward pass still runs), and the speed-up over one machine.

Usage: bench/scaling_projection.py --step-seconds T1 [--gradient-mb 233.3]
"""
import argparse


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--step-seconds", type=float, required=True,
                   help="measured step time of one machine on the whole batch")
    p.add_argument("--gradient-mb", type=float, default=233.3, help="gradient size in MB (10^6 bytes)")
    p.add_argument("--machines", default="2,4,8,16,32,64")
    p.add_argument("--gbits", default="10,25,100")
    a = p.parse_args()
    machines = [int(n) for n in a.machines.split(",")]
    gbits = [float(g) for g in a.gbits.split(",")]
    print(f"one machine: {a.step_seconds:.2f} s per step; gradient {a.gradient_mb:.1f} MB\n")
    print("| machines | link | compute s | all-reduce s | step s (no overlap .. overlap) | speed-up | dominates |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for n in machines:
        compute = a.step_seconds / n
        for g in gbits:
            comm = 2 * (n - 1) / n * a.gradient_mb * 8e6 / (g * 1e9)
            slow, fast = compute + comm, max(compute, comm)
            print(f"| {n} | {g:g} Gbit/s | {compute:.3f} | {comm:.3f} | {slow:.3f} .. {fast:.3f} | "
                  f"{a.step_seconds / slow:.1f} .. {a.step_seconds / fast:.1f} | "
                  f"{'communication' if comm > compute else 'compute'} |")


if __name__ == "__main__":
    main()
