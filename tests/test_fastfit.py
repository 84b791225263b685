"""mlpkit's jitted loop must do the same arithmetic as Keras's fit."""

import keras
import numpy as np
import pytest

from mlpkit import fastfit, models, training
from mlpkit import config as cfg


def twin_models(build, optimizer="sgd", lr=0.05):
    """Two compiled copies of one model with identical initial weights."""
    t = cfg.TrainingConfig(optimizer=optimizer, learning_rate=lr)
    keras.utils.set_random_seed(1)
    a = build()
    b = build()
    b.set_weights(a.get_weights())
    return a, b, t


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_same_history_as_keras_fit_without_shuffle(optimizer):
    rng = np.random.default_rng(0)
    x = rng.random((70, 4, 4)).astype("float32")  # 70 = 2 batches of 32 + one of 6
    y = rng.integers(0, 3, 70)
    xv, yv = x[:20], y[:20]
    a, b, t = twin_models(lambda: models.build_mlp((4, 4), (8,), "relu", 3), optimizer)
    for m in (a, b):
        training.compile_model(m, "multiclass", t)
    ha = a.fit(x, y, epochs=3, batch_size=32, shuffle=False, validation_data=(xv, yv),
               verbose=0)
    hb = fastfit.fit(b, x, y, epochs=3, batch_size=32, shuffle=False,
                     validation_data=(xv, yv), verbose=0)
    assert hb.params["steps"] == 3
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(hb.history[key], ha.history[key], rtol=2e-4, atol=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wb, wa, rtol=1e-4, atol=1e-6)


def test_regression_rmse_matches_keras():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.1).astype("float32")
    a, b, t = twin_models(lambda: models.build_mlp((3,), (6,), "relu", 1, None, normalize=x),
                          "adam", 0.01)
    for m in (a, b):
        training.compile_model(m, "regression", t)
    ha = a.fit(x, y, epochs=2, batch_size=16, shuffle=False, validation_data=(x, y), verbose=0)
    hb = fastfit.fit(b, x, y, epochs=2, batch_size=16, shuffle=False, validation_data=(x, y),
                     verbose=0)
    for key in ("loss", "rmse", "val_loss", "val_rmse"):
        np.testing.assert_allclose(hb.history[key], ha.history[key], rtol=2e-4)


def test_shuffles_with_the_seed():
    rng = np.random.default_rng(2)
    x = rng.random((64, 5)).astype("float32")
    y = rng.integers(0, 2, 64)

    def run(seed, shuffle=True):
        keras.utils.set_random_seed(0)
        m = training.compile_model(models.build_mlp((5,), (4,), "relu", 2),
                                   "multiclass", cfg.TrainingConfig(learning_rate=0.1))
        return fastfit.fit(m, x, y, epochs=2, batch_size=8, seed=seed, shuffle=shuffle,
                           verbose=0).history["loss"]

    assert run(1) == run(1)
    assert run(1) != run(2)
    assert run(1, shuffle=False) == run(2, shuffle=False)


def test_early_stopping_restores_best_weights():
    rng = np.random.default_rng(3)
    x = rng.random((40, 5)).astype("float32")
    y = rng.integers(0, 2, 40)
    keras.utils.set_random_seed(0)
    m = training.compile_model(models.build_mlp((5,), (16,), "relu", 2), "multiclass",
                               cfg.TrainingConfig(learning_rate=0.5))
    stop = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    # validating on shuffled labels: val_loss soon stops improving
    h = fastfit.fit(m, x, y, epochs=50, batch_size=8, validation_data=(x, rng.permutation(y)),
                    callbacks=[stop], verbose=0)
    assert len(h.epoch) < 50
    assert stop.best == pytest.approx(min(h.history["val_loss"]))
    # the model now holds the best epoch's weights, not the last epoch's
    best_epoch_weights = [w.copy() for w in m.get_weights()]
    assert stop.best_weights is not None
    for w, b in zip(best_epoch_weights, stop.best_weights):
        np.testing.assert_array_equal(w, b)


def test_progress_bar_counts_the_lecture_steps(capsys):
    x = np.zeros((70, 2), "float32")
    y = np.zeros(70, "int64")
    m = training.compile_model(models.build_mlp((2,), (2,), "relu", 2), "multiclass",
                               cfg.TrainingConfig())
    fastfit.fit(m, x, y, epochs=2, batch_size=32, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out and "3/3" in out
