"""Run every benchmark; one JSON object per figure on stdout (and appended to
benchmarks/results/latest.jsonl).

    python benchmarks/run_all.py [--quick]
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
(HERE / "results").mkdir(exist_ok=True)
out = HERE / "results" / "latest.jsonl"
out.unlink(missing_ok=True)
os.environ["MLPKIT_BENCH_OUT"] = str(out)

import bench_efficiency  # noqa: E402
import bench_memory  # noqa: E402
import bench_predict  # noqa: E402
import bench_startup  # noqa: E402
import bench_throughput  # noqa: E402
import bench_time_to_accuracy  # noqa: E402

quick = "--quick" in sys.argv
bench_startup.main()
bench_predict.main(50 if quick else 200)
bench_time_to_accuracy.main(3)
bench_efficiency.main(1 if quick else 3)
bench_memory.main(2)
bench_throughput.main(3 if quick else 5, 1 if quick else 3)
