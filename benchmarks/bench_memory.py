"""Figure 5: peak resident memory of `mlpkit train fashion-mnist --preset seed` and of
the tf.keras reference script, each for EPOCHS epochs (memory peaks in the first).

    python benchmarks/bench_memory.py [EPOCHS]
"""

import sys
import tempfile
from pathlib import Path

from common import REF_PYTHON, ROOT, emit, keras_home_with_fashion, mlpkit_cmd, run


def main(epochs: int = 2) -> dict:
    _, _, ours = run(mlpkit_cmd("train", "fashion-mnist", "--preset", "seed", "--epochs", epochs,
                                "--out", Path(tempfile.mkdtemp()) / "run", "--verbose", "0"))
    _, _, ref = run([REF_PYTHON, str(ROOT / "benchmarks" / "reference_lecture.py"), str(epochs)],
                    env={"KERAS_BACKEND": "tensorflow", "KERAS_HOME": keras_home_with_fashion(),
                         "TF_CPP_MIN_LOG_LEVEL": "2"})
    return emit({"figure": "peak_memory_mib", "title": "peak memory",
                 "goal": "mlpkit <= reference", "holds": ours <= ref,
                 "epochs": epochs, "mlpkit_mib": round(ours),
                 "reference_tf_keras_mib": round(ref), "ratio": round(ours / ref, 2)})


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
