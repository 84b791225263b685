"""What both estimators share: parameters and their constraints, fit, predictions,
pickling.

As scikit-learn asks, the constructor only stores its arguments; ``fit`` checks
them against ``_parameter_constraints`` (so a bad value gets scikit-learn's own
message) and everything learned ends in ``_``. Names follow scikit-learn where it
has one (``hidden_layer_sizes``, ``batch_size="auto"``: min(200, rows), ``tol``,
``n_iter_no_change``, ``early_stopping``, ``validation_fraction``, ``alpha``) and
Keras where the concept is Keras's (``epochs`` for ``max_iter``, ``learning_rate``,
``optimizer``, ``dropout``); scikit-learn's ``max_iter``, ``learning_rate_init`` and
``solver`` are taken for those.

Stopping follows scikit-learn's rule, through Keras's ``EarlyStopping``: training
ends when the training loss has not improved by ``tol`` for ``n_iter_no_change``
epochs; with ``early_stopping=True`` the loss on a held-out ``validation_fraction``
of the rows is watched instead and the best weights are restored.

A pickled estimator carries its Keras model as the bytes of a ``.keras`` file, read
back with ``safe_mode=True``: unpickling builds the model from its config and
weights, and runs no code stored in the file.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from mlpkit import config as cfg

# scikit-learn's activation names beside Keras's: "logistic" is Keras's "sigmoid",
# "identity" its "linear"; the others are Keras names.
ACTIVATIONS = {"logistic": "sigmoid", "identity": "linear",
               **{name: name for name in ("relu", "tanh", "sigmoid", "linear", "elu", "selu",
                                          "gelu", "silu", "swish", "softplus", "leaky_relu",
                                          "mish")}}
AUTO_BATCH = 200  # batch_size="auto": min(200, rows), as scikit-learn's MLPs
# Predictions run in chunks of exactly this many rows (the last one padded), so that
# XLA always multiplies matrices of one shape: a row's output is then the same
# bit for bit whichever rows come with it (scikit-learn's checks ask for that;
# another shape may pick another kernel, off in the 7th digit).
PREDICT_ROWS = 512

SHARED_DOC = """
    Args:
        hidden_layer_sizes: units of each hidden ``Dense`` layer, e.g. ``[50, 50, 50]``.
        activation: of the hidden layers: a Keras name (relu, tanh, sigmoid, elu,
            selu, gelu, ...) or scikit-learn's "logistic" / "identity".
        dropout: rate of a ``Dropout`` layer after each hidden layer (0: none).
        optimizer: sgd, adam, adamw, rmsprop or nadam (Keras's optimizers).
        learning_rate: the optimizer's learning rate.
        momentum, nesterov: SGD's momentum; ``None``: 0.9 with Nesterov's where
            scikit-learn's ``solver="sgd"`` asks for SGD (its defaults), none (Keras's)
            with ``optimizer="sgd"``.
        batch_size: rows a step; "auto" is min(200, rows), as scikit-learn.
        epochs: passes over the data (scikit-learn's ``max_iter``); ``partial_fit``
            runs one.
        shuffle: shuffle the rows every epoch.
        early_stopping: hold out ``validation_fraction`` of the rows and stop when
            their loss has not improved by ``tol`` for ``n_iter_no_change`` epochs,
            restoring the best weights. Without it, training stops on the training
            loss by the same rule; ``n_iter_no_change=np.inf`` runs every epoch.
        warm_start: ``fit`` continues from the fitted model and its optimizer state.
        random_state: an int makes fits reproducible (``keras.utils.set_random_seed``,
            which also seeds Python's and NumPy's global generators); ``None``
            leaves the generators alone.
        verbose: 0 silent, 1 Keras's progress bar, 2 one line an epoch.
        alpha: scikit-learn's L2 penalty: ``alpha / 2`` times the squared weights of
            every Dense kernel, over a batch's rows, added to the loss (0: none; such a
            model trains in Keras's ``fit``).
        max_iter, learning_rate_init, solver, nesterovs_momentum: scikit-learn's names
            for ``epochs``, ``learning_rate``, ``optimizer`` ("adam" or "sgd"; "lbfgs" is
            refused) and ``nesterov``, for code written for its MLPs; given, they win
            over mlpkit's (scikit-learn's tools set them: ``max_iter=1000``).
            ``learning_rate`` takes its schedules too: "constant"; the others are refused
            for SGD and ignored for Adam, as scikit-learn does.
        beta_1, beta_2, epsilon: Adam's, as scikit-learn's (``None``: Keras's 0.9, 0.999,
            1e-7). power_t, max_fun: taken and unused, as scikit-learn does without its
            "invscaling" schedule and "lbfgs" solver, which mlpkit refuses.

    Attributes:
        model_: the trained ``keras.Sequential``.
        history_: ``{"loss": [...], ...}``, one value an epoch, over every call of
            a warm start or ``partial_fit``; ``n_iter_``: its length; ``loss_``:
            the last training loss.
        n_features_in_, feature_names_in_: as scikit-learn (names from DataFrames).
        n_outputs_: output units of the model."""


class _KerasBytes(bytes):
    """A Keras model inside a pickle: the bytes of its ``.keras`` file."""


def model_to_bytes(model) -> bytes:
    """The ``.keras`` file of ``model`` (architecture, weights, optimizer state)."""
    with tempfile.TemporaryDirectory(prefix="mlpkit-") as folder:
        path = os.path.join(folder, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return _KerasBytes(f.read())


def model_from_bytes(data: bytes):
    """The model of a ``.keras`` file's bytes, loaded with ``safe_mode=True``."""
    import keras

    import mlpkit.layers  # noqa: F401  (registers mlpkit's layers with Keras)
    import mlpkit.metrics  # noqa: F401  (and its loss)

    with tempfile.TemporaryDirectory(prefix="mlpkit-") as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, safe_mode=True)


class MLPEstimator(BaseEstimator):
    """Base of ``MLPClassifier`` and ``MLPRegressor``; not an estimator itself.

    A subclass defines ``_targets`` (labels to Keras targets, and what it learns
    from them) and may define ``_class_weight``.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(cfg.OPTIMIZERS))],
        # a rate, or scikit-learn's schedule names (its rate is learning_rate_init)
        "learning_rate": [Interval(Real, 0, None, closed="neither"),
                          StrOptions({"constant", "invscaling", "adaptive"})],
        "momentum": [Interval(Real, 0, 1, closed="left"), None],
        "nesterov": ["boolean"],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": [Interval(Integral, 0, 2, closed="both"), "boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither"), None],
        "solver": [StrOptions({"adam", "sgd", "lbfgs"}), None],
        "nesterovs_momentum": ["boolean", None],
        "beta_1": [Interval(Real, 0, 1, closed="left"), None],
        "beta_2": [Interval(Real, 0, 1, closed="left"), None],
        "epsilon": [Interval(Real, 0, None, closed="neither"), None],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    def _training(self) -> dict:
        """epochs, learning_rate, optimizer, momentum and nesterov, given under
        scikit-learn's names (``max_iter``, ``learning_rate_init``, ``solver``,
        ``nesterovs_momentum``; these win when given, as its tools set them) or mlpkit's."""
        rate = self.learning_rate
        if isinstance(rate, str):  # scikit-learn's schedule: "constant" is mlpkit's only one
            sgd = (self.solver or self.optimizer) == "sgd"  # (Adam's ignores it there too)
            if rate != "constant" and sgd:
                raise ValueError(f"learning_rate={rate!r} is scikit-learn's schedule for "
                                 "solver='sgd'; mlpkit keeps the rate constant (Keras's "
                                 "optimizers; a cosine decay through mlpkit train): use "
                                 "learning_rate='constant' with learning_rate_init, or "
                                 f"learning_rate=<a number>. Received: learning_rate={rate!r}")
            rate = 0.001  # scikit-learn's learning_rate_init default, as mlpkit's
        out = {"epochs": self.epochs, "learning_rate": rate, "optimizer": self.optimizer}
        if self.solver == "lbfgs":
            raise ValueError("solver='lbfgs' is scikit-learn's full-batch quasi-Newton "
                             "solver; mlpkit trains with Keras's minibatch optimizers: use "
                             "solver='adam' or 'sgd' (or optimizer=...). Received: "
                             "solver='lbfgs'")
        for ours, theirs in (("epochs", "max_iter"), ("learning_rate", "learning_rate_init"),
                             ("optimizer", "solver")):
            given = getattr(self, theirs)
            if given is not None:  # scikit-learn's name, given: it wins (as its tools set it)
                out[ours] = given
        # SGD's momentum: scikit-learn's defaults (0.9, Nesterov's) where it is asked for
        # by scikit-learn's name, solver="sgd"; Keras's (none) with optimizer="sgd"
        sklearn_sgd = self.solver == "sgd"
        out["momentum"] = (self.momentum if self.momentum is not None
                           else 0.9 if sklearn_sgd else 0.0)
        nesterov = self.nesterovs_momentum  # scikit-learn's name, given: it wins
        out["nesterov"] = (bool(nesterov) if nesterov is not None else
                           bool(self.nesterov or (sklearn_sgd and out["momentum"] > 0)))
        return out

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, dropout=0.0,
                 optimizer="adam", learning_rate=0.001, momentum=None, nesterov=False,
                 batch_size="auto", epochs=200, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, warm_start=False,
                 random_state=None, verbose=0, alpha=0.0, max_iter=None,
                 learning_rate_init=None, solver=None, nesterovs_momentum=None, beta_1=None,
                 beta_2=None, epsilon=None, power_t=0.5, max_fun=15000):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.batch_size = batch_size
        self.epochs = epochs
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.alpha = alpha
        self.max_iter = max_iter
        self.learning_rate_init = learning_rate_init
        self.solver = solver
        self.nesterovs_momentum = nesterovs_momentum
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.power_t = power_t
        self.max_fun = max_fun

    def _targets(self, y, first: bool, classes=None) -> tuple[np.ndarray, dict]:
        """Keras targets for ``y``, and the attributes learned from it (first fit)."""
        raise NotImplementedError

    def _class_weight(self, targets, learned: dict) -> dict | None:
        """``{class index: weight}`` for Keras, or ``None``."""
        return None

    def _learned(self, learned: dict, name: str):
        """A learned value: from this fit's ``learned``, else from an earlier fit."""
        return learned[name] if name in learned else getattr(self, name)

    # --- fitting ---------------------------------------------------------------------

    def fit(self, X, y, sample_weight=None):
        """Train the MLP on ``X`` and ``y`` (from scratch, unless ``warm_start``).

        Args:
            X: array-like or DataFrame (n_samples, n_features) of numbers; encode
                categories first, e.g. with a ``ColumnTransformer``.
            y: targets (see the estimator's docstring for the forms it takes).
            sample_weight: per-row loss weights, multiplied by ``class_weight``.

        Returns:
            self, with ``model_``, ``history_``, ``n_iter_`` and the rest learned.

        Raises:
            ValueError: a parameter out of its range (scikit-learn's
                ``InvalidParameterError``), bad data, or labels it cannot learn.
        """
        self._validate_params()
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        architecture = self._architecture()
        first = not hasattr(self, "model_") or not (incremental or self.warm_start)
        if not first and architecture != self._fitted_architecture:
            raise ValueError("warm_start and partial_fit continue the fitted model, whose "
                             f"layers were {self._fitted_architecture}; set warm_start=False to "
                             f"build a new one. Received: {architecture}")
        X, y = validate_data(self, X, y, reset=first, dtype=np.float32, multi_output=True,
                             y_numeric=isinstance(self, RegressorMixin))
        targets, learned = self._targets(y, first, classes)
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, X, dtype=np.float32,
                                           ensure_non_negative=True)
            if not weights.any():
                raise ValueError("sample_weight must hold at least one non-zero weight. "
                                 "Received: sample_weight with every weight zero")
        class_weight = self._class_weight(targets, learned)
        if class_weight:
            from mlpkit import jax_loop

            # The lecture: with both, a row's loss weight is their product.
            weights = jax_loop.sample_weights(targets, weights, class_weight)

        seed = self._seed()
        if first:
            model, history = self._build(X.shape[1], learned, seed, len(X)), {}
        else:
            model, history = self.model_, {k: list(v) for k, v in self.history_.items()}
        # a fresh shuffle order for each call of a warm start or partial_fit
        logs = self._train(model, X, targets, weights, incremental, seed + len(
            history.get("loss", [])), learned)
        for key, values in logs.items():
            history.setdefault(key, []).extend(float(v) for v in values)

        for key, value in learned.items():
            setattr(self, key, value)
        self.model_, self.history_, self._fitted_architecture = model, history, architecture
        self._predictor = self._predictor_for(model)
        self.n_iter_ = len(history["loss"])
        task = self._task
        # scikit-learn's terms: its regressor's loss is half the squared error
        half = 0.5 if task == "regression" else self._loss_sum(self.n_outputs_, task)
        self.loss_curve_ = [half * v for v in history["loss"]]
        self.loss_ = self.loss_curve_[-1]
        self.best_loss_ = None if self.early_stopping else min(self.loss_curve_)
        self.out_activation_ = {"multiclass": "softmax", "regression": "identity"}.get(
            task, "logistic")
        ran = len(logs.get("loss", []))
        epochs = int(self._training()["epochs"])
        if not incremental and ran == epochs and self.n_iter_no_change != np.inf:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({epochs}) reached and "
                          "the optimization hasn't converged yet.", ConvergenceWarning)
        return self

    def _architecture(self) -> dict:
        sizes = np.atleast_1d(np.asarray(self.hidden_layer_sizes))
        if not sizes.size:  # () or []: no hidden layer (a linear or logistic model)
            sizes = sizes.astype(int).reshape(0)
        if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or (sizes < 1).any():
            raise ValueError("hidden_layer_sizes must be positive integers, e.g. (100,) or "
                             f"[50, 50, 50]. Received: hidden_layer_sizes="
                             f"{self.hidden_layer_sizes!r}")
        return {"hidden_layer_sizes": tuple(int(n) for n in sizes),
                "activation": self.activation, "dropout": float(self.dropout)}

    def _l2(self, rows: int, outputs: int, task: str) -> float:
        """Keras's ``L2(l2)`` strength for scikit-learn's ``alpha``: its penalty is alpha
        / 2 x the squared weights over a batch's rows (min(batch_size, the rows it fits,
        after early stopping's hold-out)), on top of its loss, which is half the squared
        error for its regressor (Keras's: the whole) and the log loss summed over the
        labels of a multilabel one (Keras's: their mean)."""
        if self.early_stopping:
            rows -= int(np.ceil(self.validation_fraction * rows))
        batch = AUTO_BATCH if self.batch_size == "auto" else int(self.batch_size)
        batch = max(1, min(batch, rows))
        share = 1.0 if isinstance(self, RegressorMixin) else 0.5
        return share * float(self.alpha) / batch / self._loss_sum(outputs, task)

    @staticmethod
    def _loss_sum(outputs: int, task: str) -> int:
        """How many times scikit-learn's loss counts Keras's mean over the outputs: a
        multilabel classifier's log loss is summed over its labels."""
        return outputs if task == "multilabel" else 1

    def _seed(self) -> int:
        """This fit's seed: ``random_state`` itself when it is an int, else one drawn
        from it (``None``: from NumPy's global generator)."""
        if isinstance(self.random_state, Integral):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    def _build(self, n_features: int, learned: dict, seed: int, rows: int):
        """mlpkit's MLP for this task, compiled with its loss and metric."""
        import keras

        from mlpkit import models, training

        if self.random_state is not None:  # reproducible weights, dropout and shuffles
            keras.utils.set_random_seed(seed)
        task = self._learned(learned, "_task")
        t = self._training()
        model = models.build_mlp((n_features,), self._architecture()["hidden_layer_sizes"],
                                 ACTIVATIONS[self.activation], self._learned(learned, "n_outputs_"),
                                 training.OUTPUT_ACTIVATION[task], dropout=float(self.dropout),
                                 l2=self._l2(rows, self._learned(learned, "n_outputs_"), task))
        config = cfg.TrainingConfig(optimizer=t["optimizer"],
                                    learning_rate=float(t["learning_rate"]),
                                    momentum=float(t["momentum"]), nesterov=t["nesterov"],
                                    epochs=int(t["epochs"]), seed=seed)
        model = training.compile_model(model, task, config)
        for name in ("beta_1", "beta_2", "epsilon"):  # Adam's (and its kin's): scikit-learn's
            value = getattr(self, name)
            if value is not None and hasattr(model.optimizer, name):
                setattr(model.optimizer, name, float(value))
        return model

    def _train(self, model, x, y, weights, incremental: bool, seed: int, learned: dict) -> dict:
        """Up to ``epochs`` epochs with the stopping rule in mlpkit's jitted loop, or
        one epoch (``partial_fit``) in Keras's ``fit``; returns ``History.history``.

        ``partial_fit`` is called again and again on chunks of data: Keras's ``fit``
        keeps its compiled step on the model between calls (milliseconds a call),
        where the jitted loop is traced and compiled for each call (a quarter of a
        second at least). It gets the rows in an order shuffled here, with this
        call's seed, so that a ``random_state`` makes it reproducible too.
        """
        import keras

        from mlpkit import jax_loop

        batch = AUTO_BATCH if self.batch_size == "auto" else int(self.batch_size)
        verbose = int(self.verbose)
        if incremental:
            if self.shuffle:
                order = np.random.default_rng(seed).permutation(len(x))
                x, y = x[order], y[order]
                weights = None if weights is None else weights[order]
            return model.fit(x, y, epochs=1, batch_size=min(batch, len(x)), shuffle=False,
                             sample_weight=weights, verbose=verbose).history
        callbacks, valid = [], None
        epochs = int(self._training()["epochs"])
        patience = self.n_iter_no_change
        if self.early_stopping:  # n_iter_no_change=inf: every epoch, then the best weights
            x, y, weights, valid = self._hold_out(x, y, weights, seed, learned)
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="val_loss", min_delta=self.tol,
                patience=int(min(patience, epochs)), restore_best_weights=True))
        elif patience != np.inf:
            callbacks.append(keras.callbacks.EarlyStopping(
                monitor="loss", min_delta=self.tol, patience=int(patience)))
        batch = min(batch, len(x))  # as scikit-learn: never more than the rows
        if jax_loop.unsupported(model) is None:
            history = jax_loop.fit(model, x, y, epochs=epochs, batch_size=batch,
                                   validation_data=valid, callbacks=callbacks, verbose=verbose,
                                   seed=seed, shuffle=bool(self.shuffle), sample_weight=weights)
        else:  # another Keras backend
            history = model.fit(x, y, epochs=epochs, batch_size=batch,
                                validation_data=valid, callbacks=callbacks, verbose=verbose,
                                shuffle=bool(self.shuffle), sample_weight=weights)
        return history.history

    def _hold_out(self, x, y, weights, seed: int, learned: dict):
        """Split off ``validation_fraction`` of the rows for early stopping, stratified
        by class for single-label classifiers (as scikit-learn's MLPs)."""
        from sklearn.model_selection import train_test_split

        single_label = self._learned(learned, "_task") in ("binary", "multiclass")
        try:
            train, valid = train_test_split(np.arange(len(x)), test_size=self.validation_fraction,
                                            random_state=seed, stratify=y if single_label else None)
        except ValueError as e:
            raise ValueError(f"early_stopping cannot hold out validation_fraction="
                             f"{self.validation_fraction} of {len(x)} rows ({e}). Use more rows, "
                             "another validation_fraction, or early_stopping=False.") from None
        w = None if weights is None else weights[train]
        return x[train], y[train], w, (x[valid], y[valid])

    # --- predicting ------------------------------------------------------------------

    @staticmethod
    def _predictor_for(model):
        """mlpkit's jitted forward pass for ``model``, kept by the estimator (made in
        ``fit``, not on the first ``predict``: predicting leaves the estimator as it was)."""
        from mlpkit import inference

        return inference.Predictor(model)

    def _outputs(self, X) -> np.ndarray:
        """The model's outputs for ``X`` (probabilities or values) as float64, what
        scikit-learn's estimators return; computed in chunks of ``PREDICT_ROWS``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float32)
        n = len(X)
        padded = np.zeros((-(-n // PREDICT_ROWS) * PREDICT_ROWS, X.shape[1]), np.float32)
        padded[:n] = X
        out = [self._predictor(padded[start:start + PREDICT_ROWS])
               for start in range(0, len(padded), PREDICT_ROWS)]
        return np.concatenate(out)[:n].astype(np.float64)

    # --- pickling: the Keras model travels as the bytes of its .keras file -------------

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: Python gives the __dict__ itself
        state.pop("_predictor", None)  # compiled code: made again from the model
        if "model_" in state and not isinstance(state["model_"], bytes):
            state = {**state, "model_": model_to_bytes(state["model_"])}
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            model = model_from_bytes(state["model_"])
            state = {**state, "model_": model, "_predictor": self._predictor_for(model)}
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # several targets, or a multilabel matrix
        return tags
