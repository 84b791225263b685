"""Run every benchmark; one JSON object per figure on stdout, each also put into
benchmarks/results.jsonl (committed; ``render.py`` writes the READMEs from it).

``select_fast.py`` (choosing the ``fast`` preset, ~10 min), ``select_members.py`` (the
`best` presets' ensemble sizes, ~10-25 min each), ``select_sprint.py`` and
``select_smoothing.py`` (the sprint's length and the presets' label smoothing, ~8 min
each), ``select_augmentation.py`` (the Fashion-MNIST preset's augmentation, ~25 min) and ``bench_best.py`` (the ``best`` and ``sprint`` presets at three seeds, tens of
minutes) are not run here; their figures in results.jsonl stay as they were measured.

    python benchmarks/run_all.py [--quick]    # --quick: benchmarks/results/quick.jsonl
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
quick = "--quick" in sys.argv
if quick:  # fewer repetitions: not figures to commit
    (HERE / "results").mkdir(exist_ok=True)
    os.environ["MLPKIT_BENCH_OUT"] = str(HERE / "results" / "quick.jsonl")

import bench_devices  # noqa: E402
import bench_efficiency  # noqa: E402
import bench_memory  # noqa: E402
import bench_predict  # noqa: E402
import bench_resume  # noqa: E402
import bench_serving  # noqa: E402
import bench_sklearn  # noqa: E402
import bench_startup  # noqa: E402
import bench_tables  # noqa: E402
import bench_throughput  # noqa: E402
import bench_time_to_accuracy  # noqa: E402

bench_startup.main()
bench_predict.main(50 if quick else 200)
bench_time_to_accuracy.main()
bench_efficiency.main(1 if quick else 3)
bench_memory.main(2)
bench_throughput.main(3 if quick else 5, 1 if quick else 3)
bench_resume.main(*((3, 3) if quick else ()))
bench_sklearn.main(1 if quick else 3)
bench_tables.main(1 if quick else 3)
bench_devices.main(2 if quick else 3)
bench_serving.main(3 if quick else 8)
