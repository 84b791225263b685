"""``MLPRegressor``: one or several targets, mean squared error."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import column_or_1d

from mlpkit.sklearn.base import SHARED_DOC, MLPEstimator


class MLPRegressor(RegressorMixin, MLPEstimator):
    __doc__ = """A Keras MLP regressor with scikit-learn's estimator API.

    A linear output unit per target, trained on the mean squared error; ``y`` may
    hold several targets, (n_samples, n_targets). ``score`` is R², as scikit-learn.
    """ + SHARED_DOC + """

    Example (the lecture's pipeline, mlpkit's estimator in place of scikit-learn's):
        >>> reg = make_pipeline(StandardScaler(),
        ...                     MLPRegressor(hidden_layer_sizes=[50, 50, 50], random_state=42))
        >>> reg.fit(x_train, y_train).predict(x_valid)
    """

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over ``X`` and ``y``, continuing from the fitted model."""
        self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True)

    def _targets(self, y, first, classes=None):
        y = np.asarray(y, dtype=np.float32)
        if y.ndim == 2 and y.shape[1] == 1:  # a column: one target, as scikit-learn's MLP
            y = column_or_1d(y, warn=True)
        outputs = 1 if y.ndim == 1 else y.shape[1]
        if not first:
            if outputs != self.n_outputs_:
                raise ValueError(f"y has {outputs} targets; the model was fitted with "
                                 f"{self.n_outputs_}. Received: y.shape={y.shape}")
            return y, {}
        return y, {"_task": "regression", "n_outputs_": outputs}

    def predict(self, X) -> np.ndarray:
        """Predicted values, (n_samples,) for one target, else (n_samples, n_targets)."""
        out = self._outputs(X)
        return out.reshape(len(out)) if self.n_outputs_ == 1 else out
