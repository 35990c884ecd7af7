"""fc6's three matrix products at batch 128, and its forward product at larger batches.

fc6 multiplies [B, 9216] by [9216, 4096]; its backward pass multiplies the output gradient by the
transposed weights (input gradient) and the transposed input by the output gradient (weight
gradient). Prints GFLOP/s of each in a tf.function, on whichever kernels TensorFlow runs
(TF_ENABLE_ONEDNN_OPTS=1: oneDNN, as the alexnet program; 0: Eigen).

    TF_ENABLE_ONEDNN_OPTS=1 .venv/bin/python bench/fc_matmul.py
"""
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

w = tf.random.normal([9216, 4096])


def gflops(fn, flop, repeats=5):
    fn()
    start = time.time()
    for _ in range(repeats):
        fn().numpy()
    return flop / ((time.time() - start) / repeats) / 1e9


for batch in (128, 256, 512):
    x = tf.random.normal([batch, 9216])
    dy = tf.random.normal([batch, 4096])
    flop = 2 * batch * 9216 * 4096
    line = "batch %3d: forward x.w %5.0f GFLOP/s" % (batch, gflops(tf.function(lambda: tf.matmul(x, w)), flop))
    if batch == 128:
        line += ", input gradient dy.w^T %5.0f, weight gradient x^T.dy %5.0f" % (
            gflops(tf.function(lambda: tf.matmul(dy, w, transpose_b=True)), flop),
            gflops(tf.function(lambda: tf.matmul(x, dy, transpose_a=True)), flop))
    print(line)
