"""``MLPClassifier``: binary, multiclass and multilabel classification."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import column_or_1d

from mlpkit.sklearn.base import SHARED_DOC, MLPEstimator


class MLPClassifier(ClassifierMixin, MLPEstimator):
    __doc__ = """A Keras MLP classifier with scikit-learn's estimator API.

    The loss follows the labels, as the lecture says: two classes get one sigmoid
    output and binary cross-entropy; more classes a softmax and sparse categorical
    cross-entropy; a 0/1 label matrix (multilabel) a sigmoid per label. Labels may
    be numbers or strings; ``classes_`` holds them, sorted.
    """ + SHARED_DOC + """
        classes_: the class labels (0..k-1 for a multilabel matrix).

    Args (classifier only):
        class_weight: None, "balanced" (n / (classes x count), as scikit-learn) or
            {class label: weight}; multiplied by ``sample_weight``.

    Example:
        >>> clf = MLPClassifier(hidden_layer_sizes=(32,), epochs=50, random_state=0)
        >>> clf.fit(X, y_names).predict(X[:2])
        array(['cat', 'dog'], dtype='<U3')
    """

    _parameter_constraints: dict = {
        **MLPEstimator._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, dropout=0.0,
                 optimizer="adam", learning_rate=0.001, momentum=None, nesterov=False,
                 batch_size="auto", epochs=200, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4, warm_start=False,
                 class_weight=None, random_state=None, verbose=0, alpha=0.0, max_iter=None,
                 learning_rate_init=None, solver=None, nesterovs_momentum=None, beta_1=None,
                 beta_2=None, epsilon=None, power_t=0.5, max_fun=15000):
        super().__init__(
            hidden_layer_sizes, activation, dropout=dropout, optimizer=optimizer,
            learning_rate=learning_rate, momentum=momentum, nesterov=nesterov,
            batch_size=batch_size, epochs=epochs, shuffle=shuffle,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, warm_start=warm_start,
            random_state=random_state, verbose=verbose, alpha=alpha, max_iter=max_iter,
            learning_rate_init=learning_rate_init, solver=solver,
            nesterovs_momentum=nesterovs_momentum, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, power_t=power_t, max_fun=max_fun)
        self.class_weight = class_weight

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over ``X`` and ``y``, continuing from the fitted model.

        Args:
            classes: every class label. Required on the first call (a batch may not
                hold them all), unless ``y`` is a multilabel matrix.
        """
        self._validate_params()
        if self.class_weight == "balanced":
            raise ValueError("class_weight='balanced' needs all the rows at once and "
                             "partial_fit sees one batch; pass {class: weight}, or use fit. "
                             "Received: class_weight='balanced'")
        if not hasattr(self, "model_"):
            if classes is None and type_of_target(y) != "multilabel-indicator":
                raise ValueError("classes must be passed on the first call to partial_fit: "
                                 "a batch may not hold every class. Received: classes=None")
        elif classes is not None and not np.array_equal(unique_labels(classes), self.classes_):
            raise ValueError(f"classes differ from those of the first call "
                             f"({self.classes_.tolist()}). Received: classes={classes!r}")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _targets(self, y, first, classes=None):
        if not first:
            if self._task == "multilabel":
                return self._label_matrix(y, self.n_outputs_), {}
            return self._codes(column_or_1d(y, warn=True), self.classes_), {}
        check_classification_targets(y)  # "Unknown label type" for continuous values
        kind = type_of_target(y)
        if kind == "multilabel-indicator":
            y = self._label_matrix(y)
            return y, {"_task": "multilabel", "classes_": np.arange(y.shape[1]),
                       "n_outputs_": y.shape[1]}
        if kind not in ("binary", "multiclass"):
            raise ValueError("MLPClassifier learns binary, multiclass or multilabel (a 0/1 "
                             f"matrix) targets. Received: y of type {kind!r}")
        y = column_or_1d(y, warn=True)
        found = unique_labels(y if classes is None else classes)
        if len(found) < 2:
            raise ValueError(f"MLPClassifier needs at least 2 classes in y; it holds 1 class: "
                             f"{found.tolist()}.")
        task = "binary" if len(found) == 2 else "multiclass"
        return self._codes(y, found), {"_task": task, "classes_": found,
                                       "n_outputs_": 1 if task == "binary" else len(found)}

    @staticmethod
    def _label_matrix(y, labels: int | None = None) -> np.ndarray:
        y = np.asarray(y)
        if labels is not None and (y.ndim != 2 or y.shape[1] != labels):
            raise ValueError(f"y must be a 0/1 matrix of {labels} labels, as in the first fit. "
                             f"Received: y.shape={y.shape}")
        return y.astype(np.float32)

    @staticmethod
    def _codes(y, classes: np.ndarray) -> np.ndarray:
        """Class indices of the labels ``y`` in ``classes`` (sorted)."""
        unknown = np.setdiff1d(y, classes)
        if len(unknown):
            raise ValueError(f"y holds labels that are not among the classes: "
                             f"{unknown[:10].tolist()}. Known classes: {classes[:20].tolist()}")
        return np.searchsorted(classes, y).astype(np.int32)

    def _class_weight(self, targets, learned):
        if self.class_weight is None:
            return None
        from mlpkit import labels

        classes = self._learned(learned, "classes_")
        # mlpkit's class weights: a key is a class label; "balanced" from the counts
        kind = "names" if classes.dtype.kind in "USO" else "indices"
        spec = labels.Labels(self._learned(learned, "_task"), [str(c) for c in classes],
                             classes.tolist(), kind)
        return labels.class_weights(self.class_weight, targets, spec)

    def predict_proba(self, X) -> np.ndarray:
        """Probability of each class, (n_samples, n_classes); for a multilabel model,
        of each label."""
        p = self._outputs(X)
        if self._task == "binary":
            p = p.reshape(len(p))
            return np.column_stack([1 - p, p])
        return p

    def predict_log_proba(self, X) -> np.ndarray:
        """The logarithm of ``predict_proba``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Class labels from ``classes_``; for a multilabel model, a 0/1 matrix."""
        from mlpkit import metrics

        p = self._outputs(X)
        if self._task == "multilabel":
            return metrics.predicted_labels(p)
        return self.classes_[metrics.predicted_classes(p, self._task)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
