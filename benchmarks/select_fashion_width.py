"""Choose the number and width of the MLPs in fashion-mnist's `best` ensemble on
validation data, within the issue's 15 minutes of fit.

The preset (an ensemble of 2 MLPs of 1024-1024, each with its own 1-pixel random shifts,
no dropout, 120 epochs) was chosen by select_fashion_ensemble.py: validation accuracy
0.9194 in 834 s at seed 1 (its record, ``ensemble_selection_best_fashion``, is the
baseline here). Its fit is almost all matrix products, so for the same compute an
ensemble can have more, narrower members: the cost of one member-epoch grows with its
weights (784 x h1 + h1 x h2), about 1.19 M for 768-768 and 0.66 M for 512-512 against
1.86 M for 1024-1024. Exploration before this script (seed 1, validation only, a /tmp
script, with other work on the machine, so its times were longer): 3 x 768-768 for 120
epochs reached 0.9228.

Every candidate is trained at select_members.SEED (1: not one of the seeds bench_best.py
measures) and scored only on the 5,000 validation images; the test images are dropped
right after loading.

The rule, fixed before it ran: among the candidates whose fit took at most
BUDGET_SECONDS (the issue's 15 minutes of training on 2 cores), the highest validation
accuracy wins; a change is kept only where it beats the preset by at least
select_members.MIN_GAIN (0.001).

Records the runs as the ``width_selection_best_fashion`` figure in
``benchmarks/results.jsonl``. The choice goes into the preset's TOML by hand, with a
comment; bench_best.py then measures the preset's test figure over its seeds.

    python benchmarks/select_fashion_width.py            # ~50 min on 2 cores
    python benchmarks/select_fashion_width.py --added    # ADDED only, ~13 min
"""

from __future__ import annotations

from common import latest
from select_members import selection

CANDIDATES = (
    {"members": 3, "hidden": [768, 768], "epochs": 120},
    {"members": 5, "hidden": [512, 512], "epochs": 120},
    {"members": 3, "hidden": [1024, 512], "epochs": 110},
)
# added after the first three had run (``--added``: these only, kept with the record's
# runs): 3 x 768-768 took 702 s of the 900, room for a fourth member at fewer epochs
ADDED = (
    {"members": 4, "hidden": [768, 768], "epochs": 100},
)


def baseline() -> dict:
    """The preset's run in select_fashion_ensemble.py's latest record."""
    chosen = latest("ensemble_selection_best_fashion")["chosen"]
    return {"members": chosen["members"], "hidden": [1024, 1024], "epochs": chosen["epochs"],
            "fit_seconds": chosen["fit_seconds"], "val_accuracy": chosen["val_accuracy"],
            "from": "ensemble_selection_best_fashion"}


def earlier() -> tuple[list[dict], list[float]]:
    """The runs of this script's latest record and its load (``--added`` keeps them)."""
    r = latest("width_selection_best_fashion")
    load = r["load_average"]
    return r["runs"], [load["min"], load["max"]]


def main(added: bool = False) -> dict:
    runs, load = earlier() if added else ([], [])
    return selection("width_selection_best_fashion", "number and width of the MLPs",
                     ADDED if added else CANDIDATES + ADDED, baseline(), runs, load)


if __name__ == "__main__":
    import sys

    main(added="--added" in sys.argv[1:])
