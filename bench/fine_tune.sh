#!/usr/bin/env bash
# Fine-tuning against training from scratch (BENCHMARKS.md): a source trained on 5 Fashion-MNIST
# classes, then three runs on the 5 others with the same data, recipe and time budget: from
# scratch, fine-tuning every layer (--init-from), and fine-tuning fc6-fc8 only (--train-layers).
# Run from the repository root after building; writes runs/ft/ (about 20 minutes on 2 cores).
set -euo pipefail
A=build/src/cli/alexnet
SOURCE_BUDGET=${SOURCE_BUDGET:-480}
TARGET_BUDGET=${TARGET_BUDGET:-180}
mkdir -p runs/ft
# 12,000 training images as runs/ft/png/<index>_<Class>.png, then class folders: a/ holds the
# first 1,000 of T-shirt-top, Trouser, Pullover, Dress, Coat; b/ the first 300 of Sandal, Shirt,
# Sneaker, Bag, Ankle-boot.
[ -d runs/ft/png ] || $A extract --split train --count 12000 --out runs/ft/png > /dev/null
[ -d runs/ft/a ] || for c in T-shirt-top Trouser Pullover Dress Coat; do
  mkdir -p runs/ft/a/$c
  ls runs/ft/png | grep "_$c.png$" | sort -n | head -1000 | while read -r f; do cp runs/ft/png/$f runs/ft/a/$c/; done
done
[ -d runs/ft/b ] || for c in Sandal Shirt Sneaker Bag Ankle-boot; do
  mkdir -p runs/ft/b/$c
  ls runs/ft/png | grep "_$c.png$" | sort -n | head -300 | while read -r f; do cp runs/ft/png/$f runs/ft/b/$c/; done
done
COMMON="--resize 112 --crop 99 --init he --standardize --batch 64 --epochs 100 --checkpoint-every 0 --log-every 60"
[ -d runs/ft/source ] || $A train --data runs/ft/a $COMMON --time-budget "$SOURCE_BUDGET" --run runs/ft/source
# The target runs: 300 validation images, and a constant learning rate (a step schedule whose
# first step is past the budget): the paper's plateau rule with 150 validation images divided it
# after one noisy epoch and froze the runs at whatever they had reached.
TARGET="$COMMON --val-fraction 0.2 --lr-schedule step --lr-step 1000 --time-budget $TARGET_BUDGET"
$A train --data runs/ft/b $TARGET --run runs/ft/scratch
$A train --data runs/ft/b $TARGET --run runs/ft/all --init-from runs/ft/source
$A train --data runs/ft/b $TARGET --run runs/ft/fc678 --init-from runs/ft/source --train-layers fc6,fc7,fc8
