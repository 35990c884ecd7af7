"""conv1 as a space-to-depth convolution, timed against conv1 itself (issue 29's lever).

conv1 (11 x 11 x 3, stride 4, 227 -> 55) equals a 3 x 3 x 48 convolution at stride 1 over the
input padded to 228 and rearranged in 4 x 4 blocks (tf.nn.space_to_depth: 57 x 57 x 48), with
its weights padded to 12 x 12 and rearranged the same way: the same products plus zeros (12^2 /
11^2 = 1.19 times the MACs), a layout with more channels per pixel. Prints the largest
difference of the two outputs (exactness) and the milliseconds of the forward pass and of the
weight gradient for a batch of 128, both ways, twice, alternated. With --precision bf16 both
run in bfloat16 as mixed-precision training runs them (weights kept in fp32, cast at each use;
the incoming gradient in bf16), on a CPU with bf16 arithmetic.

    TF_ENABLE_ONEDNN_OPTS=1 .venv/bin/python bench/conv1_space_to_depth.py [--precision bf16]
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import tensorflow as tf  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
BF16 = parser.parse_args().precision == "bf16"


def cast(t):
    return tf.cast(t, tf.bfloat16) if BF16 else t


x = tf.random.normal([128, 227, 227, 3])
w = tf.Variable(tf.random.normal([11, 11, 3, 96]) * 0.01)
dy = tf.random.normal([128, 55, 55, 96])


def direct(images):
    return tf.nn.conv2d(cast(images), cast(w), 4, "VALID")


def space_to_depth(images):
    padded = tf.pad(cast(images), [[0, 0], [0, 1], [0, 1], [0, 0]])
    blocks = tf.nn.space_to_depth(padded, 4)                  # [N, 57, 57, 48], channel (by, bx, c)
    w12 = tf.pad(w, [[0, 1], [0, 1], [0, 0], [0, 0]])         # [12, 12, 3, 96]
    w6 = tf.reshape(w12, [3, 4, 3, 4, 3, 96])                 # (ky, by, kx, bx, c, o)
    w3 = tf.reshape(tf.transpose(w6, [0, 2, 1, 3, 4, 5]), [3, 3, 48, 96])
    return tf.nn.conv2d(blocks, cast(w3), 1, "VALID")


def weight_gradient(conv):
    @tf.function
    def run():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.cast(conv(x) * cast(dy), tf.float32))
        return tape.gradient(loss, w)
    return run


def milliseconds(fn, repeats=3):
    fn()
    start = time.time()
    for _ in range(repeats):
        fn().numpy()
    return (time.time() - start) / repeats * 1000


def f32(t):
    return tf.cast(t, tf.float32)


reference = f32(direct(x))
print("largest difference %.2g (outputs up to %.2g)%s" % (
    float(tf.reduce_max(tf.abs(reference - f32(space_to_depth(x))))), float(tf.reduce_max(tf.abs(reference))),
    ", bf16" if BF16 else ""))
for name, conv in [("conv1", direct), ("space-to-depth", space_to_depth)] * 2:
    forward = tf.function(lambda conv=conv: conv(x))
    print("%-15s forward %4.0f ms   weight gradient %4.0f ms" % (
        name, milliseconds(forward), milliseconds(weight_gradient(conv))))
