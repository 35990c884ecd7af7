"""The Keras peer of `alexnet time`: the same network (the seed's table, single tower, NHWC, LRN
after the ReLUs of conv1/conv2, dropout 0.5 on fc6/fc7), the same loss (cross-entropy + 5e-4 *
sum(w^2)/2 on the weights, as TensorFlow's L2Loss) and SGD with momentum 0.9, on one random
batch, run by the same TensorFlow wheel (the project's .venv). Prints the same two lines as
`alexnet time`: "training step: <ms> ms, <img/s> images/s" and "inference: ...".

bf16 uses the same grappler rewrite as `alexnet --precision bf16`
(auto_mixed_precision_onednn_bfloat16); Keras' own mixed_bfloat16 policy cannot run this network
on a CPU (TensorFlow has no bf16 CPU kernel for LRN).
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def alexnet(classes, size, weight_decay):
    l2 = tf.keras.regularizers.l2(weight_decay / 2)  # Keras' l2(c) adds c * sum(w^2)
    conv = lambda n, k, s, pad: tf.keras.layers.Conv2D(n, k, s, pad, activation="relu", kernel_regularizer=l2)
    lrn = lambda: tf.keras.layers.Lambda(
        lambda x: tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75))
    pool = lambda: tf.keras.layers.MaxPool2D(3, 2)
    fc = lambda n, act: tf.keras.layers.Dense(n, activation=act, kernel_regularizer=l2)
    return tf.keras.Sequential([
        tf.keras.Input((size, size, 3)),
        conv(96, 11, 4, "valid"), lrn(), pool(),
        conv(256, 5, 1, "same"), lrn(), pool(),
        conv(384, 3, 1, "same"), conv(384, 3, 1, "same"), conv(256, 3, 1, "same"), pool(),
        tf.keras.layers.Flatten(),
        fc(4096, "relu"), tf.keras.layers.Dropout(0.5),
        fc(4096, "relu"), tf.keras.layers.Dropout(0.5),
        fc(classes, None),
    ])


def mean_ms(fn, iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) * 1000 / iterations


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--input-size", type=int, default=227)
    p.add_argument("--classes", type=int, default=1000)
    p.add_argument("--iterations", type=int, default=5)
    a = p.parse_args()
    if a.precision == "bf16":
        tf.config.optimizer.set_experimental_options({"auto_mixed_precision_onednn_bfloat16": True})
    tf.keras.utils.set_random_seed(1)
    model = alexnet(a.classes, a.input_size, 5e-4)
    optimizer = tf.keras.optimizers.SGD(learning_rate=1e-4, momentum=0.9)
    rng = np.random.default_rng(1)
    images = tf.constant(rng.normal(0, 50, (a.batch, a.input_size, a.input_size, 3)).astype(np.float32))
    labels = tf.constant(np.arange(a.batch) % a.classes, dtype=tf.int32)
    xent = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = xent(labels, model(images, training=True)) + tf.add_n(model.losses)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    @tf.function
    def infer():
        return tf.nn.softmax(model(images, training=False))

    train_step().numpy()  # warm-up: tracing, grappler, oneDNN primitives
    infer().numpy()
    train_ms = mean_ms(lambda: train_step().numpy(), a.iterations)
    infer_ms = mean_ms(lambda: infer().numpy(), a.iterations)
    print(f"keras peer: batch {a.batch}, input {a.input_size} x {a.input_size}, {a.precision}, "
          f"{model.count_params():,} parameters")
    print(f"training step: {train_ms:.0f} ms, {a.batch * 1000 / train_ms:.1f} images/s")
    print(f"inference:     {infer_ms:.0f} ms, {a.batch * 1000 / infer_ms:.1f} images/s")


if __name__ == "__main__":
    main()
