"""Figure 2: training throughput at batch 512 as GFLOP/s, against NumPy's float32
matrix-multiply peak on the same machine in the same run.

FLOPs per sample: 2P forward + 4P backward - 2P1 (the first layer needs no
gradient for its input), P = weights, P1 = the first Dense layer's weights:
about 1.13 MFLOP for the lecture's model. Measured for mlpkit's loop and for
Keras's own fit, alternating, median of REPS epochs after the first.

A second figure: the same two at the lecture's batch of 32, seconds per
training epoch (no validation pass) and their ratio.

    python benchmarks/bench_efficiency.py [REPS]
"""

import sys
import time

import numpy as np

import mlpkit  # noqa: F401  (sets the JAX backend)
from common import emit, load_average, median

import keras  # noqa: E402

from mlpkit import config as cfg  # noqa: E402
from mlpkit import training  # noqa: E402

BATCH = 512


def numpy_peak(n: int = 2048, reps: int = 10) -> float:
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    a @ b
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n ** 3 / median(times) / 1e9


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.t)


def epoch_seconds(ds, engine: str, epochs: int, batch: int = BATCH) -> list[float]:
    c = cfg.resolve("fashion-mnist", batch_size=batch, epochs=epochs, engine=engine)
    keras.utils.set_random_seed(0)
    model = training.compile_model(training.build_model(ds, c), ds.task, c.training)
    timer = EpochTimer()
    if engine == "keras":
        model.fit(ds.x_train, ds.y_train, batch_size=batch, epochs=epochs, verbose=0,
                  callbacks=[timer])
    else:
        from mlpkit import jax_loop

        jax_loop.fit(model, ds.x_train, ds.y_train, batch_size=batch, epochs=epochs,
                     verbose=0, callbacks=[timer])
    return timer.seconds[1:]


def loop_vs_fit(ds, reps: int, batch: int = 32) -> dict:
    """Seconds per epoch of mlpkit's loop and of Keras's fit at the lecture's batch."""
    ours, plain, load = [], [], []
    for _ in range(reps):
        load.append(load_average())
        ours += epoch_seconds(ds, "auto", 3, batch)
        plain += epoch_seconds(ds, "keras", 3, batch)
    ratio = median(plain) / median(ours)
    return emit({
        "figure": "jitted_loop_vs_fit", "title": f"jitted loop vs `fit`, batch {batch}",
        "goal": "mlpkit's loop faster than Keras's `fit`", "holds": ratio > 1,
        "batch_size": batch, "measured_epochs": len(ours),
        "mlpkit_epoch_seconds": round(median(ours), 3),
        "keras_fit_epoch_seconds": round(median(plain), 3), "speedup": round(ratio, 2),
    }, load)


def main(reps: int = 3) -> dict:
    ds = mlpkit.load_dataset("fashion-mnist")
    loop_vs_fit(ds, reps)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(300), keras.layers.Dense(100),
                              keras.layers.Dense(10)])
    weights = [layer.kernel.shape for layer in model.layers[1:]]
    p = sum(a * b for a, b in weights)
    p1 = weights[0][0] * weights[0][1]
    flops = 6 * p - 2 * p1
    n = len(ds.x_train)
    peaks, ours, plain, load = [], [], [], []
    for _ in range(reps):
        load.append(load_average())
        peaks.append(numpy_peak())
        ours += epoch_seconds(ds, "auto", 3)
        plain += epoch_seconds(ds, "keras", 3)
    peak = median(peaks)
    ours_gflops = n * flops / median(ours) / 1e9
    plain_gflops = n * flops / median(plain) / 1e9
    goal = 0.9
    return emit({
        "figure": "training_gflops_batch_512", "title": "batch 512 GFLOP/s",
        "goal": f">= {goal:.0%} of NumPy's peak", "holds": ours_gflops / peak >= goal,
        "flop_per_sample": flops,
        "numpy_peak_gflops": round(peak, 1),
        "mlpkit_gflops": round(ours_gflops, 1), "mlpkit_fraction_of_peak": round(ours_gflops / peak, 3),
        "keras_fit_gflops": round(plain_gflops, 1),
        "keras_fit_fraction_of_peak": round(plain_gflops / peak, 3),
        "mlpkit_epoch_seconds": round(median(ours), 3),
        "keras_fit_epoch_seconds": round(median(plain), 3), "goal_fraction": goal,
    }, load)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
