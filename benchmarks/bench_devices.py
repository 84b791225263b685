"""Two figures: training on 1, 2 and 4 virtual CPU devices (``--devices``), and the
three ``--precision`` modes on CPU.

Devices. JAX fixes its device count when it starts, so each count trains in its own
process with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``: the lecture's
model and recipe (batch 32, SGD 0.01; 16 and 8 rows a device) on Fashion-MNIST
through mlpkit's jitted loop under ``keras.distribution.DataParallel``, EPOCHS
training epochs (no validation pass), the first (compilation) left out. Virtual
devices are one CPU cut in N: they share this machine's cores, so they cannot
speed anything up; what they add is the work of splitting each batch and adding up
the gradients. The figure is there to show the arithmetic holds (the same weights
as on one device, up to float rounding) and what the split costs, not a speed-up:
that needs real devices (several GPUs).

Precision. The same recipe in float32, mixed_bfloat16 and mixed_float16 (Keras's
dtype policies, float16 with loss scaling), one device; seconds per training epoch
and test accuracy. CPUs without bfloat16/float16 matrix units (this one) emulate
them, so mixed precision is slower here; on a GPU it is the other way round.

    python benchmarks/bench_devices.py [EPOCHS]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from common import PYTHON, emit, load_average, median

HERE = Path(__file__).resolve()
COUNTS = (1, 2, 4)
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
BATCH = 32


def measure(devices: int, precision: str, epochs: int, weights_out: str,
            nudge: bool = False) -> dict:
    """In a process with ``devices`` virtual devices: train, time the epochs, evaluate.
    ``nudge``: start from initial weights one float step (ulp) away, the size of a
    rounding difference."""
    import keras

    import mlpkit
    from mlpkit import config as cfg
    from mlpkit import distribution, evaluation, jax_loop
    from mlpkit import training

    from bench_efficiency import EpochTimer

    ds = mlpkit.load_dataset("fashion-mnist")
    c = cfg.resolve("fashion-mnist", "seed", epochs=epochs, devices=devices,
                    precision=precision)
    t = c.training
    jax_loop.enable_compilation_cache()
    keras.utils.set_random_seed(t.seed)
    with distribution.use(t.devices, t.batch_size) as names:
        model = training.build_model(ds, c)  # under the precision's dtype policy
        if nudge:
            model.set_weights([np.nextafter(w, np.float32(np.inf)) for w in model.get_weights()])
        training.compile_model(model, ds.task, t, len(ds.x_train))
        timer = EpochTimer()
        jax_loop.fit(model, ds.x_train, ds.y_train, epochs=epochs, batch_size=t.batch_size,
                     verbose=0, seed=t.seed, callbacks=[timer])
    figures = evaluation.evaluate(model, ds.x_test, ds.y_test, ds.preprocessing())
    np.savez(weights_out, *model.get_weights())
    seconds = timer.seconds[1:]
    return {"devices": len(names), "precision": precision, "epoch_seconds": seconds,
            "images_per_second": round(len(ds.x_train) / median(seconds)),
            "test_accuracy": round(figures["test_accuracy"], 4)}


def in_process(devices: int, precision: str, epochs: int, folder: Path,
               nudge: bool = False) -> tuple[dict, list]:
    weights = folder / f"w-{devices}-{precision}-{nudge}.npz"
    env = {**os.environ, "KERAS_BACKEND": "jax",
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
    r = subprocess.run([PYTHON, str(HERE), "--measure", str(devices), precision, str(epochs),
                        str(weights), *(["--nudge"] if nudge else [])],
                       capture_output=True, text=True, env=env, timeout=3600)
    if r.returncode != 0:
        raise RuntimeError(f"{devices} devices, {precision} failed:\n{r.stderr[-3000:]}")
    with np.load(weights) as f:
        arrays = [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]
    return json.loads(r.stdout.strip().splitlines()[-1]), arrays


def main(epochs: int = 3) -> list[dict]:
    folder = Path(tempfile.mkdtemp(prefix="bench-devices-"))
    cores = os.cpu_count()
    load, runs, weights = [load_average()], {}, {}
    for n in COUNTS:
        runs[n], weights[n] = in_process(n, "float32", epochs, folder)
        load.append(load_average())
    # The order of the float additions differs (each device sums its rows, then the
    # devices are added up), and thousands of steps carry those roundings on and grow
    # them. How far apart is "the same up to rounding"? The yardstick: one device again,
    # from initial weights one float step (ulp) away. Differences are relative,
    # |w - w_1| / |w_1| over all the weights.
    nudged, weights["nudged"] = in_process(1, "float32", epochs, folder, nudge=True)
    load.append(load_average())

    def relative(w) -> float:
        return float(np.sqrt(sum(np.sum((a - b) ** 2) for a, b in zip(w, weights[1]))
                             / sum(np.sum(b ** 2) for b in weights[1])))

    diff = {n: relative(weights[n]) for n in COUNTS[1:]}
    drift = relative(weights["nudged"])
    accuracy = {n: abs(runs[n]["test_accuracy"] - runs[1]["test_accuracy"]) for n in COUNTS}
    factor, accuracy_tolerance = 3, 0.002
    one = median(runs[1]["epoch_seconds"])
    devices_figure = emit({
        "figure": "devices_virtual_cpu", "title": "1, 2 and 4 virtual CPU devices",
        "goal": f"the model of 1 device on 2 and 4: weights no further from it than {factor}x "
                "the drift of one float rounding (1 device from initial weights 1 ulp off), test "
                f"accuracy within {accuracy_tolerance:g}; no speed-up: virtual devices share "
                f"this machine's {cores} cores",
        "holds": {"same weights": all(d <= factor * drift for d in diff.values()),
                  "same accuracy": all(a <= accuracy_tolerance for a in accuracy.values())},
        "recipe": {"preset": "seed", "batch_size": BATCH, "epochs": epochs,
                   "measured_epochs": epochs - 1, "validation": False},
        "cores": cores, "rounding_drift": drift, "rounding_drift_accuracy": nudged[
            "test_accuracy"],
        "runs": [{"devices": n, "rows_per_device": BATCH // n,
                  "epoch_seconds": round(median(runs[n]["epoch_seconds"]), 3),
                  "images_per_second": runs[n]["images_per_second"],
                  "relative_to_one": round(one / median(runs[n]["epoch_seconds"]), 2),
                  "test_accuracy": runs[n]["test_accuracy"],
                  "relative_weight_difference": diff.get(n, 0.0)} for n in COUNTS],
    }, load)

    load, modes = [load_average()], {"float32": runs[1]}
    for p in PRECISIONS[1:]:
        modes[p], _ = in_process(1, p, epochs, folder)
        load.append(load_average())
    f32 = median(modes["float32"]["epoch_seconds"])
    accuracy_tolerance = 0.01
    precision_figure = emit({
        "figure": "precision_modes_cpu", "title": "--precision on CPU",
        "goal": f"mixed precision within {accuracy_tolerance:g} of float32's test accuracy; "
                "on this CPU (no bfloat16/float16 matrix units) no speed-up expected",
        "holds": {"accuracy": all(abs(modes[p]["test_accuracy"] - modes["float32"][
            "test_accuracy"]) <= accuracy_tolerance for p in PRECISIONS)},
        "recipe": {"preset": "seed", "batch_size": BATCH, "epochs": epochs,
                   "measured_epochs": epochs - 1, "devices": 1},
        "runs": [{"precision": p, "epoch_seconds": round(median(modes[p]["epoch_seconds"]), 3),
                  "images_per_second": modes[p]["images_per_second"],
                  "speed_vs_float32": round(f32 / median(modes[p]["epoch_seconds"]), 2),
                  "test_accuracy": modes[p]["test_accuracy"]} for p in PRECISIONS],
    }, load)
    return [devices_figure, precision_figure]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        n, p, e, out = sys.argv[2:6]
        print(json.dumps(measure(int(n), p, int(e), out, "--nudge" in sys.argv)))
    else:
        main(*map(int, sys.argv[1:]))
