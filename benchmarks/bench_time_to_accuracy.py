"""Figure 3: `mlpkit train fashion-mnist --preset fast`, over SEEDS seeds.

Fit seconds (compilation included), the whole command's wall seconds (imports,
data loading, training, evaluation, artifacts and report) and the test accuracy
of each run. The first run starts with an empty compilation cache (cold); the
others reuse it (warm), as a user's second run does.

    python benchmarks/bench_time_to_accuracy.py [SEEDS]
"""

import json
import statistics
import sys
import tempfile
from pathlib import Path

from common import emit, mlpkit_cmd, run


def main(seeds: int = 3) -> dict:
    cache = tempfile.mkdtemp(prefix="mlpkit-cache-")
    runs = []
    for seed in range(1, seeds + 1):
        folder = Path(tempfile.mkdtemp()) / "run"
        wall, _, _ = run(mlpkit_cmd("train", "fashion-mnist", "--preset", "fast", "--seed", seed,
                                    "--out", folder, "--verbose", "0"),
                         env={"MLPKIT_CACHE": cache})
        manifest = json.loads((folder / "manifest.json").read_text())
        metrics = json.loads((folder / "metrics.json").read_text())
        runs.append({"seed": seed, "cache": "cold" if seed == 1 else "warm",
                     "fit_seconds": manifest["timings"]["fit_seconds"],
                     "command_seconds": round(wall, 2),
                     "test_accuracy": round(metrics["test_accuracy"], 4)})

    def stats(key):
        values = [r[key] for r in runs]
        return {"mean": round(statistics.mean(values), 3),
                "spread": round(max(values) - min(values), 3)}

    return emit({
        "figure": "fast_preset_time_to_accuracy", "runs": runs,
        "fit_seconds": stats("fit_seconds"), "command_seconds": stats("command_seconds"),
        "test_accuracy": stats("test_accuracy"),
        "goals": {"test_accuracy": ">= 0.88", "fit_seconds": "<= 2", "command_seconds": "<= 8"},
    })


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
