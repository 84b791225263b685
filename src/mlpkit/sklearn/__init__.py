"""scikit-learn estimators backed by Keras: ``MLPClassifier`` and ``MLPRegressor``.

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from mlpkit.sklearn import MLPRegressor

    housing = mlpkit.load_dataset("california-housing")
    reg = make_pipeline(StandardScaler(),
                        MLPRegressor(hidden_layer_sizes=[50, 50, 50], random_state=42))
    reg.fit(housing.x_train, housing.y_train).score(housing.x_valid, housing.y_valid)

The lecture reviews scikit-learn's ``MLPRegressor`` before moving to Keras. These
estimators keep scikit-learn's contract (pipelines, ``GridSearchCV``,
``cross_val_score``, ``clone``, pickle; they pass ``check_estimator``, see
``tests/test_sklearn.py`` for the few checks a network cannot pass and why) and
train mlpkit's models (``models.build_mlp``, compiled by ``training.compile_model``
with the loss the labels call for) in mlpkit's jitted loop (``jax_loop.fit``;
Keras's ``fit`` on other backends). So they add what scikit-learn's MLPs lack:
class weights, dropout, Keras's optimizers, an accelerator when JAX has one.
"""

from mlpkit.sklearn.classifier import MLPClassifier
from mlpkit.sklearn.regressor import MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
