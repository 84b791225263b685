"""Figure 6: start-up of `mlpkit --help` and `mlpkit data list` (median of REPS), and
whether either imported Keras or JAX (they must not).

    python benchmarks/bench_startup.py [REPS]
"""

import subprocess
import sys

from common import PYTHON, emit, median, mlpkit_cmd, run

PROBE = ("import sys; sys.argv = ['mlpkit'] + sys.argv[1:]; from mlpkit.cli import app\n"
         "try:\n    app()\nexcept SystemExit:\n    pass\n"
         "print('@@', sorted(m for m in ('keras', 'jax', 'tensorflow') if m in sys.modules))")


def main(reps: int = 5) -> dict:
    goal = 0.5
    figure = {"figure": "startup_seconds", "title": "start-up",
              "goal": f"<= {goal:g} s, no Keras/JAX/TF import", "goal_seconds": goal}
    for name, args in (("help", ["--help"]), ("data_list", ["data", "list"])):
        figure[f"{name}_seconds"] = round(median(run(mlpkit_cmd(*args))[0] for _ in range(reps)), 3)
        out = subprocess.run([PYTHON, "-c", PROBE, *args], capture_output=True, text=True).stdout
        figure[f"{name}_imported"] = out.rsplit("@@", 1)[1].strip()
    figure["holds"] = all(figure[f"{n}_seconds"] <= goal and figure[f"{n}_imported"] == "[]"
                          for n in ("help", "data_list"))
    return emit(figure)


if __name__ == "__main__":
    main(*map(int, sys.argv[1:]))
