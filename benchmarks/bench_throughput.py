"""Figure 1: the lecture's recipe, seconds per epoch, mlpkit against the tf.keras script.

Both run the lecture's model and recipe (batch 32, SGD 0.01) for EPOCHS epochs,
alternating, REPS times. An epoch's seconds include its validation pass; the
first epoch (compilation) is left out. Figure: the median over all measured
epochs of each, and the ratio; test accuracy after the same epochs.

    python benchmarks/bench_throughput.py [EPOCHS] [REPS]
"""

import json
import statistics
import sys
import tempfile
from pathlib import Path

from common import (REF_PYTHON, ROOT, emit, keras_home_with_fashion, load_average, median,
                    mlpkit_cmd, run)


def main(epochs: int = 5, reps: int = 3) -> dict:
    ref_env = {"KERAS_BACKEND": "tensorflow", "KERAS_HOME": keras_home_with_fashion(),
               "TF_CPP_MIN_LOG_LEVEL": "2"}
    ref_epochs, ours_epochs, ref_acc, ours_acc, load = [], [], [], [], [load_average()]
    for _ in range(reps):
        _, out, _ = run([REF_PYTHON, str(ROOT / "benchmarks" / "reference_lecture.py"), str(epochs)],
                        env=ref_env)
        ref = json.loads(out.strip().splitlines()[-1])
        ref_epochs += ref["epoch_seconds"][1:]
        ref_acc.append(round(ref["test_accuracy"], 4))
        ref_tf = ref.get("tensorflow")
        folder = Path(tempfile.mkdtemp()) / "run"
        run(mlpkit_cmd("train", "fashion-mnist", "--preset", "seed", "--epochs", epochs,
                       "--out", folder, "--verbose", "0"))
        rows = (folder / "history.csv").read_text().splitlines()
        header = rows[0].split(",")
        col = header.index("epoch_seconds")
        ours_epochs += [float(r.split(",")[col]) for r in rows[2:]]
        ours_acc.append(round(json.loads((folder / "metrics.json").read_text())["test_accuracy"], 4))
        load.append(load_average())
    ref_s, ours_s = median(ref_epochs), median(ours_epochs)
    goal, tolerance = 4.0, 0.01
    return emit({
        "figure": "lecture_recipe_seconds_per_epoch", "title": "lecture recipe, s/epoch",
        "goal": f"mlpkit >= {goal:g}x faster than the tf.keras script, same accuracy "
                f"(means within {tolerance:g})",
        "holds": {"speed": ref_s / ours_s >= goal,
                  "accuracy": abs(statistics.mean(ref_acc) - statistics.mean(ours_acc)) <= tolerance},
        "epochs_per_run": epochs, "reps": reps, "measured_epochs": len(ours_epochs),
        "reference_tf_keras_seconds": round(ref_s, 3), "mlpkit_seconds": round(ours_s, 3),
        "speedup": round(ref_s / ours_s, 2), "goal_speedup": goal,
        "reference_test_accuracy": ref_acc, "mlpkit_test_accuracy": ours_acc,
        "reference_tensorflow": ref_tf,
    }, load)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
