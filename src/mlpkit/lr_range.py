"""The learning-rate range test: the lecture's first tuning step, as one command.

The lecture: "The first [hyperparameter] to check is the learning rate." Rather than
train once per candidate rate, train once while the rate grows exponentially, from
``min_lr`` to ``max_lr`` over ``steps`` training steps (a few hundred), recording the
loss of every batch (Leslie Smith's range test, as in fastai and Géron's book). The
loss falls while the rate is useful and shoots up once it is too high.

The suggested rate follows one rule, stated wherever it is shown (``RULE``): the rate
at the lowest smoothed loss, divided by 10. At the minimum the rate is already on the
edge of diverging; a tenth of it is still fast and safely stable. The smoothed loss is
an exponential moving average of the batch losses over about a twentieth of the steps
(``window``; bias-corrected), short enough to lag the rate by a small fraction of the
range; the test stops early once it exceeds 4x its minimum (the rate diverged), or
when a loss is not finite.

Steps are plain ``train_on_batch`` calls (one compiled step, the rate set before each),
so the test works on any Keras backend and for every data form: the rows are the
training rows of the ``Dataset`` ``train`` would use, reshuffled every pass; validation
and test rows are never read.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

DIVERGED = 4.0  # stop once the smoothed loss exceeds this many times its minimum
RULE = "the learning rate at the lowest smoothed loss, divided by 10"


@dataclasses.dataclass
class LRFinding:
    """What a range test found.

    Attributes:
        learning_rates, losses, smoothed: one value per step run.
        suggestion: the suggested learning rate (``RULE``); ``None`` when the loss never
            fell (then the range should start lower).
        steepest: the rate where the smoothed loss fell fastest (per decade), for reference.
        rule: how ``suggestion`` was chosen, in words.
        stopped: why the test ended ("diverged", "not finite" or "max_lr reached").
    """

    learning_rates: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float | None
    steepest: float | None
    rule: str = RULE
    stopped: str = "max_lr reached"

    def rows(self) -> list[dict]:
        return [{"step": i + 1, "learning_rate": lr, "loss": loss, "smoothed_loss": s}
                for i, (lr, loss, s) in enumerate(zip(self.learning_rates, self.losses,
                                                      self.smoothed))]


def window(steps: int) -> int:
    """Steps the moving average of the losses spans: a twentieth of the test, at least 5."""
    return max(5, steps // 20)


def schedule(min_lr: float, max_lr: float, steps: int) -> np.ndarray:
    """``steps`` rates growing exponentially from ``min_lr`` to ``max_lr`` (both included)."""
    return np.geomspace(min_lr, max_lr, steps)


def suggest(learning_rates, smoothed) -> tuple[float | None, float | None]:
    """``(suggestion, steepest)`` from a finished test (see ``RULE``).

    The first 5% of the steps are skipped: the moving average is still settling there.
    """
    lrs = np.asarray(learning_rates, float)
    s = np.asarray(smoothed, float)
    skip = max(1, len(s) // 20)
    if len(s) <= skip + 2:
        return None, None
    best = skip + int(np.argmin(s[skip:]))
    if s[best] >= s[skip]:  # never fell below its start: no useful rate in the range
        return None, None
    slope = np.gradient(s[skip:best + 1], np.log10(lrs[skip:best + 1])) if best > skip + 1 \
        else None
    steepest = float(lrs[skip + int(np.argmin(slope))]) if slope is not None else None
    return float(lrs[best] / 10), steepest


def range_test(model, x, y, sample_weight=None, *, batch_size: int, min_lr: float = 1e-6,
               max_lr: float = 10.0, steps: int = 300, seed: int = 0) -> LRFinding:
    """Train ``model`` (compiled) for up to ``steps`` batches at exponentially growing rates.

    The model's weights change: build a fresh model for training afterwards.

    Args:
        x, y: training rows; ``sample_weight``: per-row loss weights, or ``None``.
        batch_size: rows per step, as training will use.
        min_lr, max_lr: the range of the learning rate.
        steps: how many steps (batches) the rate takes to grow from ``min_lr`` to ``max_lr``.
        seed: the batches' shuffle.
    """
    rates = schedule(min_lr, max_lr, steps)
    rng = np.random.default_rng(seed)
    n = len(x)
    order = rng.permutation(n)
    at = 0
    lrs, losses, smoothed = [], [], []
    avg, lowest, stopped = 0.0, math.inf, "max_lr reached"
    beta = 1 - 1 / window(steps)
    optimizer = model.optimizer
    for i, lr in enumerate(rates):
        if at + batch_size > n and at > 0:  # a new pass over the rows, reshuffled
            order, at = rng.permutation(n), 0
        rows = order[at:at + batch_size]
        at += batch_size
        optimizer.learning_rate = float(lr)
        out = model.train_on_batch(x[rows], y[rows], sample_weight=None if sample_weight is None
                                   else sample_weight[rows], return_dict=True)
        loss = float(out["loss"])
        lrs.append(float(lr))
        losses.append(loss)
        if not math.isfinite(loss):
            smoothed.append(math.inf)
            stopped = "not finite"
            break
        avg = beta * avg + (1 - beta) * loss
        value = avg / (1 - beta ** (i + 1))
        smoothed.append(value)
        lowest = min(lowest, value)
        if i > steps // 20 and value > DIVERGED * lowest:
            stopped = "diverged"
            break
    suggestion, steepest = suggest(lrs, smoothed)
    return LRFinding(lrs, losses, smoothed, suggestion, steepest, RULE, stopped)


def plot(finding: LRFinding, path, title: str = "") -> None:
    """Loss against learning rate (log scale), the suggested rate marked, the rule stated."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mlpkit import files

    fig, ax = plt.subplots(figsize=(7, 4.5))
    lrs = np.asarray(finding.learning_rates)
    ax.plot(lrs, finding.losses, color="0.75", linewidth=0.8, label="batch loss")
    finite = np.isfinite(finding.smoothed)
    ax.plot(lrs[finite], np.asarray(finding.smoothed)[finite], color="C0", label="smoothed loss")
    if finding.suggestion:
        ax.axvline(finding.suggestion, color="C3", linestyle="--",
                   label=f"suggested {finding.suggestion:.2g}")
    ax.set_xscale("log")
    low = np.nanmin(np.asarray(finding.smoothed)[finite]) if finite.any() else 0
    first = finding.smoothed[0] if finding.smoothed and math.isfinite(finding.smoothed[0]) else 1
    ax.set_ylim(max(0, low - 0.1 * abs(first)), max(first, low) * 1.5 + 1e-9)
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss")
    ax.set_title(title or "learning-rate range test")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left")
    fig.text(0.01, 0.01, f"suggested: {RULE}", fontsize=8, color="0.3")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    with files.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)


def run(config, dataset=None, *, min_lr: float = 1e-6, max_lr: float = 10.0,
        steps: int = 300) -> tuple:
    """The whole range test for a resolved ``RunConfig``: data, model, test, run folder.

    The folder (``--out``, or ``runs/<data>-lr-find-<time>``) holds ``config.toml`` (the
    settings tested), ``lr_find.csv`` (one row a step), ``lr_find.json`` (the suggestion
    and its rule) and ``plots/lr_find.png``.

    Returns:
        ``(folder, LRFinding)``.
    """
    import keras

    from mlpkit import config as cfg
    from mlpkit import data, files, jax_loop, labels, runs, training
    from mlpkit.errors import ConfigError

    for name, value in (("min_lr", min_lr), ("max_lr", max_lr)):
        if not value > 0:
            raise ConfigError(f"{name} must be > 0. Received: {name}={value!r}")
    if not max_lr > min_lr:
        raise ConfigError(f"max_lr must be > min_lr. Received: min_lr={min_lr!r}, "
                          f"max_lr={max_lr!r}")
    if steps < 10:
        raise ConfigError(f"steps must be >= 10. Received: steps={steps!r}")
    runs.check_out(config.output.out, config.output.runs_dir)
    ds = dataset if dataset is not None else data.load_for(config)
    t = config.training
    # a constant rate the test sets before each step (a schedule would override it)
    tested = dataclasses.replace(t, schedule="constant", learning_rate=min_lr)
    class_weight = labels.class_weights(t.class_weight, ds.y_train, ds.labels)
    weights = (jax_loop.sample_weights(ds.y_train, ds.w_train, class_weight)
               if ds.w_train is not None or class_weight else None)
    keras.utils.set_random_seed(t.seed)
    # an ensemble's members each train as if alone (jax_loop), so one member's rate is
    # the ensemble's: the test trains one
    one = dataclasses.replace(config, model=dataclasses.replace(config.model, members=1))
    model = training.build_model(ds, one)
    training.compile_model(model, ds.task, tested, len(ds.x_train), ds.one_hot,
                           training.target_loss_scale(ds))
    finding = range_test(model, ds.x_train, ds.y_train, weights, batch_size=t.batch_size,
                         min_lr=min_lr, max_lr=max_lr, steps=steps, seed=t.seed)
    path = runs.create(config.output.runs_dir, ds.name, "lr-find", config.output.out)
    files.write_text(path / "config.toml", cfg.to_toml(config))
    files.write_text(path / "lr_find.csv", training.rows_to_csv(finding.rows()))
    files.write_json(path / "lr_find.json", {
        "suggested_learning_rate": finding.suggestion, "rule": finding.rule,
        "steepest_learning_rate": finding.steepest, "stopped": finding.stopped,
        "min_lr": min_lr, "max_lr": max_lr, "steps": steps, "steps_run": len(finding.losses),
        "batch_size": t.batch_size, "optimizer": t.optimizer, "dataset": ds.name,
        "members_tested": 1,
        "train_rows": len(ds.x_train)})
    (path / "plots").mkdir(exist_ok=True)
    plot(finding, path / "plots" / "lr_find.png",
         f"{ds.name}: {t.optimizer}, batch {t.batch_size}, "
         f"hidden {'-'.join(map(str, config.model.hidden))}")
    return path, finding
