"""Figure 4: prediction latency (one image) and throughput (10,000 test images),
mlpkit's prediction path against Keras's ``model.predict``, alternating.

    python benchmarks/bench_predict.py [REPS]
"""

import sys
import time

import mlpkit
from common import emit, median

import keras  # noqa: E402

from mlpkit import models  # noqa: E402

from mlpkit.inference import Predictor as predictor  # noqa: E402  (mlpkit's prediction path)


def timed(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return median(times)


def main(reps: int = 200) -> dict:
    ds = mlpkit.load_dataset("fashion-mnist")
    keras.utils.set_random_seed(0)
    model = models.seed_classifier()
    one = ds.x_test[:1]
    predict = predictor(model)
    predict(one), predict(ds.x_test), model.predict(one, verbose=0)  # compile both
    model.predict(ds.x_test, verbose=0)
    ours_one, keras_one, ours_all, keras_all = [], [], [], []
    for _ in range(3):
        ours_one.append(timed(lambda: predict(one), reps))
        keras_one.append(timed(lambda: model.predict(one, verbose=0), max(reps // 10, 5)))
        ours_all.append(timed(lambda: predict(ds.x_test), 5))
        keras_all.append(timed(lambda: model.predict(ds.x_test, verbose=0), 5))
    n = len(ds.x_test)
    goal = 0.5
    return emit({
        "figure": "prediction", "title": "one image, in-process",
        "goal": f"<= {goal:g} ms median", "holds": median(ours_one) * 1e3 <= goal,
        "mlpkit_one_image_ms": round(median(ours_one) * 1e3, 3),
        "keras_predict_one_image_ms": round(median(keras_one) * 1e3, 3),
        "mlpkit_images_per_second": round(n / median(ours_all)),
        "keras_predict_images_per_second": round(n / median(keras_all)),
        "goal_one_image_ms": goal,
    })


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
