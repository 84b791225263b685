"""Side-by-side: the lecture's scikit-learn baseline against the Keras MLP.

Both models train on the same split. California housing: the lecture's
``make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=[50, 50, 50],
random_state=42))`` against ``seed_regressor``. Fashion-MNIST: an
``MLPClassifier`` of the same shape (300, 100) with its iterations capped
(``max_iter``, default 20; scikit-learn's defaults otherwise: Adam, batch 200)
against the lecture's Keras classifier. ``max_iter`` caps the regressor too when given
(else scikit-learn's 200, as the lecture's pipeline has it). A table's category columns
are one-hot coded for the baseline, as for the Keras model.
"""

from __future__ import annotations

import logging
import time
import warnings

from mlpkit import config as cfg
from mlpkit import metrics
from mlpkit.errors import ConfigError

log = logging.getLogger("mlpkit")


def _sklearn_params(mlp) -> int:
    return int(sum(w.size for w in mlp.coefs_) + sum(b.size for b in mlp.intercepts_))


def _check_max_iter(max_iter) -> None:
    if max_iter is not None and (isinstance(max_iter, bool) or not isinstance(max_iter, int)
                                 or max_iter < 1):
        raise ConfigError(f"max_iter must be a whole number >= 1 (the scikit-learn MLP's "
                          f"iterations). Received: max_iter={max_iter!r}")


def _table_scaler(ds):
    """The baseline's preprocessing: StandardScaler, and for a table's category columns
    (integer codes in the encoded matrix) one-hot codes, as the Keras model has them
    (scaled as numbers, codes would read as an order: Neighborhood 23 above 22)."""
    from sklearn.preprocessing import StandardScaler

    if not ds.table:
        return StandardScaler()
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    from mlpkit.data.columns import TableEncoder

    coded = sorted(TableEncoder.from_spec(ds.table).categorical())
    if not coded:
        return StandardScaler()
    return ColumnTransformer([("codes", OneHotEncoder(handle_unknown="ignore"), coded)],
                             remainder=StandardScaler())


def sklearn_baseline(ds, max_iter: int | None = None, seed: int = 42,
                     standardize_targets: bool = False,
                     class_weight: dict | None = None) -> dict:
    """Fit the scikit-learn baseline; return its row of the comparison table.

    ``standardize_targets``: the regressor learns the targets standardized on the
    training rows (scikit-learn's ``TransformedTargetRegressor``), as the Keras model
    does with ``target_scaling = "standardize"`` (a table's default): a price in the
    hundreds of thousands is out of reach of an MLP's outputs at their initial scale.
    One-hot labels are learned and scored as class indices (scikit-learn would read a
    0/1 matrix as several labels). The sample weights and ``class_weight`` weigh the
    training rows as they weigh the Keras model's loss."""
    import inspect

    import numpy as np
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _check_max_iter(max_iter)
    scaler = _table_scaler(ds)
    if ds.task == "regression":
        mlp = MLPRegressor(hidden_layer_sizes=[50, 50, 50], random_state=seed,
                           max_iter=max_iter or 200)
        model = make_pipeline(scaler, mlp)
        x = lambda a: a  # noqa: E731
        name = "scikit-learn MLPRegressor [50, 50, 50]" + (
            f", max_iter={max_iter}" if max_iter else "")
        if standardize_targets:
            model = TransformedTargetRegressor(model, transformer=StandardScaler())
            name += ", targets standardized"
    else:
        max_iter = max_iter or 20
        mlp = MLPClassifier(hidden_layer_sizes=(300, 100), max_iter=max_iter, random_state=seed)
        # images as the lecture's pixels in 0-1; a table's columns standardized, as for
        # the regressor (the Keras model normalizes them too)
        model = mlp if ds.table is None else make_pipeline(scaler, mlp)
        x = lambda a: a.reshape(len(a), -1)  # noqa: E731
        name = f"scikit-learn MLPClassifier (300, 100), max_iter={max_iter}"
    y = {part: getattr(ds, f"y_{part}") for part in ("train", "valid", "test")}
    if ds.one_hot:  # one class a row, as a 0/1 matrix: the class indices
        y = {part: np.argmax(v, axis=1) for part, v in y.items()}
    fit_params = {}
    if ds.w_train is not None or class_weight:
        from mlpkit.jax_loop import sample_weights

        if "sample_weight" in inspect.signature(type(mlp).fit).parameters:
            key = f"{type(mlp).__name__.lower()}__sample_weight" if model is not mlp else \
                "sample_weight"
            fit_params[key] = sample_weights(y["train"], ds.w_train, class_weight)
            name += ", weighted"
        else:  # scikit-learn before 1.7
            name += ", unweighted (this scikit-learn's MLP takes no sample weights)"
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # capped on purpose
        model.fit(x(ds.x_train), y["train"], **fit_params)
    fit_seconds = time.perf_counter() - t0
    if isinstance(model, TransformedTargetRegressor):
        mlp = model.regressor_[-1]  # the fitted clone
    loss = metrics.loss_for(ds.task)
    out = model.predict if ds.task == "regression" else model.predict_proba
    if ds.task == "binary":  # mlpkit's binary output: the probability of the second class
        out = lambda a: model.predict_proba(a)[:, 1:]  # noqa: E731
    row = {"model": name}
    pred = {part: out(x(getattr(ds, f"x_{part}"))) for part in ("valid", "test")}
    for part in ("valid", "test"):
        figures = metrics.compute(loss, y[part], pred[part])
        row[f"{part}_{metrics.metric_for(loss)}"] = figures[metrics.metric_for(loss)]
    if ds.task == "regression":  # several targets: each one's RMSE too, as the Keras row
        from mlpkit import evaluation

        spec = ds.labels.spec() if ds.labels is not None else {}
        row.update({f"test_{k}": v for k, v in evaluation.rmse_by_target(
            y["test"], pred["test"], spec).items()})
    row.update(fit_seconds=round(fit_seconds, 2), params=_sklearn_params(mlp),
               epochs=int(mlp.n_iter_))
    return row


def keras_model(ds, config: cfg.RunConfig, class_weight: dict | None = None) -> dict:
    """Fit the Keras MLP of ``config`` (the seed preset by default), as ``mlpkit train``
    does (its sample and class weights too); its table row."""
    import keras

    from mlpkit import evaluation, training

    keras.utils.set_random_seed(config.training.seed)
    model = training.compile_model(training.build_model(ds, config), ds.task, config.training,
                                   len(ds.x_train), ds.one_hot,
                                   scale=training.target_loss_scale(ds))
    t0 = time.perf_counter()
    history = training.fit(model, ds, config.training, verbose=0, class_weight=class_weight)
    fit_seconds = time.perf_counter() - t0
    metric = metrics.metric_for(metrics.loss_for(ds.task))
    valid = evaluation.evaluate(model, ds.x_valid, ds.y_valid, ds.preprocessing(), "valid_")
    test = evaluation.evaluate(model, ds.x_test, ds.y_test, ds.preprocessing())
    k = config.model.members
    kind = f"ensemble of {k} Keras MLPs" if k > 1 else "Keras MLP"
    return {"model": f"{kind} {list(config.model.hidden)} ({config.preset} preset)",
            f"valid_{metric}": valid[f"valid_{metric}"], f"test_{metric}": test[f"test_{metric}"],
            **{k: v for k, v in test.items() if k.startswith(f"test_{metric}[")},
            "fit_seconds": round(fit_seconds, 2), "params": int(model.count_params()),
            "epochs": len(history.epoch)}


def compare(dataset: str, preset: str = "seed", data_dir=None, max_iter: int | None = None,
            **settings) -> list[dict]:
    """Train the baseline and the Keras model on the same split; one row each.

    Example:
        >>> rows = compare("california-housing", data_dir="../shared/datasets")
    """
    from mlpkit import data, labels

    _check_max_iter(max_iter)
    config = cfg.resolve(dataset, preset, data_dir=data_dir, **settings)
    ds = data.load_for(config)
    for line in ds.notes:  # what was done to the data, as mlpkit train says it
        log.info(line)
    scaled = config.model.target_scaling == "standardize"
    weights = labels.class_weights(config.training.class_weight, ds.y_train, ds.labels)
    return [sklearn_baseline(ds, max_iter=max_iter, standardize_targets=scaled,
                             class_weight=weights),
            keras_model(ds, config, weights)]
