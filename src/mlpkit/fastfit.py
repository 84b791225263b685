"""A jitted JAX training loop for Keras models: ``fit`` without per-step overhead.

At batch 32 the lecture's model does little arithmetic per step, and Keras's
``fit`` spends most of each step in Python and dispatch. This loop keeps the
data on the device, runs many steps per compiled call (``lax.fori_loop`` over a
block of shuffled batch indices), and drives Keras's own callbacks (progress bar,
History, EarlyStopping, mlpkit's CSV history) between calls. The arithmetic is
the same as ``fit``: the Keras model through ``stateless_call``, the Keras
optimizer through ``stateless_apply``, the Keras loss, a fresh shuffle every
epoch, and a last smaller batch (1,719 steps of 32 on 55,000 images, the last
of 24). The only difference is the random order of the shuffles.

Used by ``training.fit`` on the JAX backend (``engine = "auto"``); Keras's
``fit`` remains for other backends and ``engine = "keras"``.
"""

from __future__ import annotations

import math

import keras
import numpy as np

BLOCK = 128  # training steps per compiled call: progress bar updates ~14 times an epoch
EVAL_BATCH = 1024


def enable_compilation_cache() -> None:
    """Keep compiled XLA programs in ``<mlpkit cache>/jax`` so a repeated run skips
    compilation (about two seconds for the lecture's model, weight initializers
    included). ``MLPKIT_JAX_CACHE=0`` turns this off."""
    import os

    if os.environ.get("MLPKIT_JAX_CACHE", "1") == "0":
        return
    import jax

    from mlpkit.data.sources import cache_root

    if jax.config.jax_compilation_cache_dir is None:
        jax.config.update("jax_compilation_cache_dir", str(cache_root() / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)


def supported(model: keras.Model) -> bool:
    """Can this loop train ``model``? (JAX backend, no extra losses from layers.)"""
    return keras.backend.backend() == "jax" and len(model.losses) == 0


def _per_sample_loss(loss: str):
    return {"sparse_categorical_crossentropy": keras.losses.sparse_categorical_crossentropy,
            "categorical_crossentropy": keras.losses.categorical_crossentropy,
            "binary_crossentropy": keras.losses.binary_crossentropy,
            "mse": keras.losses.mean_squared_error}[loss]


class _Engine:
    """Compiled train-block and evaluate functions for one compiled Keras model."""

    def __init__(self, model: keras.Model, loss: str, metric: str):
        import jax
        import jax.numpy as jnp

        self.model, self.metric = model, metric
        self._eval_exec = self._eval_thread = None  # see precompile_evaluate
        per_sample = _per_sample_loss(loss)
        optimizer = model.optimizer

        def measure(y, y_pred, mask, weight=None):
            """Sum of masked (weighted) per-sample loss, and of the metric's numerator."""
            if loss != "sparse_categorical_crossentropy":
                y = jnp.reshape(y, y_pred.shape).astype(y_pred.dtype)
            losses = per_sample(y, y_pred)
            losses = jnp.reshape(losses, (losses.shape[0], -1)).mean(axis=1)
            if weight is not None:
                losses = losses * weight
            if metric == "accuracy":
                if loss == "binary_crossentropy":  # binary_accuracy, mean over labels
                    y2 = jnp.reshape(y, y_pred.shape).astype(y_pred.dtype)
                    stat = jnp.mean(((y_pred > 0.5) == (y2 > 0.5)).astype("float32"), axis=-1)
                elif loss == "categorical_crossentropy":  # one-hot labels
                    stat = (jnp.argmax(y_pred, -1) == jnp.argmax(y, -1)).astype("float32")
                else:
                    hit = jnp.argmax(y_pred, -1) == jnp.reshape(y, (-1,)).astype("int32")
                    stat = hit.astype("float32")
            else:  # rmse: sum of squared errors per sample
                diff = jnp.reshape(y_pred, (y_pred.shape[0], -1)) - jnp.reshape(
                    y, (y.shape[0], -1)).astype(y_pred.dtype)
                stat = jnp.mean(diff * diff, axis=1)
            return jnp.sum(losses * mask), jnp.sum(stat * mask)

        def loss_fn(tv, ntv, x, y, w, mask):
            y_pred, ntv = model.stateless_call(tv, ntv, x, training=True)
            loss_sum, stat_sum = measure(y, y_pred, mask, w)
            # Keras's "sum_over_batch_size": the mean over the samples of the batch
            return loss_sum / jnp.sum(mask), (ntv, loss_sum, stat_sum)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def train_block(state, x_all, y_all, w_all, idx, mask, n_steps):
            def step(i, carry):
                tv, ntv, ov, loss_total, stat_total = carry
                x = jnp.take(x_all, idx[i], axis=0)
                y = jnp.take(y_all, idx[i], axis=0)
                w = jnp.take(w_all, idx[i], axis=0)
                (_, (ntv, loss_sum, stat_sum)), grads = grad_fn(tv, ntv, x, y, w, mask[i])
                tv, ov = optimizer.stateless_apply(ov, grads, tv)
                return tv, ntv, ov, loss_total + loss_sum, stat_total + stat_sum

            zero = jnp.zeros((), "float32")
            return jax.lax.fori_loop(0, n_steps, step, (*state, zero, zero))

        def evaluate(tv, ntv, x, y, mask):
            y_pred, _ = model.stateless_call(tv, ntv, x, training=False)
            return measure(y, y_pred, mask)

        self.train_block = jax.jit(train_block, donate_argnums=(0,))
        self.evaluate_batch = jax.jit(evaluate)

    def state(self):
        m = self.model
        return ([v.value for v in m.trainable_variables],
                [v.value for v in m.non_trainable_variables],
                [v.value for v in m.optimizer.variables])

    def write_back(self, state) -> None:
        m = self.model
        for variables, values in zip((m.trainable_variables, m.non_trainable_variables,
                                      m.optimizer.variables), state):
            for var, value in zip(variables, values):
                var.assign(value)

    def precompile_evaluate(self, state, x, y) -> None:
        """Trace and compile the evaluation in a thread while the first training block
        runs (tracing is Python, compiling is XLA: both overlap the device work)."""
        import threading

        import jax

        size = min(EVAL_BATCH, len(x))
        spec = lambda a, rows=None: jax.ShapeDtypeStruct(  # noqa: E731
            a.shape if rows is None else (rows, *a.shape[1:]), a.dtype)
        args = ([spec(v) for v in state[0]], [spec(v) for v in state[1]], spec(x, size),
                spec(y, size), jax.ShapeDtypeStruct((size,), "float32"))

        def work():
            self._eval_exec = self.evaluate_batch.lower(*args).compile()

        self._eval_thread = threading.Thread(target=work, daemon=True)
        self._eval_thread.start()

    def evaluate(self, state, x, y) -> tuple[float, float]:
        """Mean loss and metric over ``(x, y)`` (device arrays), in fixed-size batches."""
        import jax.numpy as jnp

        if self._eval_thread is not None:
            self._eval_thread.join()
            self._eval_thread = None
        run = self._eval_exec or self.evaluate_batch
        n = len(x)
        loss_total = stat_total = 0.0
        size = min(EVAL_BATCH, n)
        for start in range(0, n, size):
            xb, yb = x[start:start + size], y[start:start + size]
            real = len(xb)
            if real < size:  # pad to the compiled shape; the mask drops the padding
                xb = jnp.concatenate([xb, jnp.zeros((size - real, *xb.shape[1:]), xb.dtype)])
                yb = jnp.concatenate([yb, jnp.zeros((size - real, *yb.shape[1:]), yb.dtype)])
            mask = (jnp.arange(size) < real).astype("float32")
            l, s = run(state[0], state[1], xb, yb, mask)
            loss_total += float(l)
            stat_total += float(s)
        return self.finish(loss_total, stat_total, n)

    def finish(self, loss_total: float, stat_total: float, n: int) -> tuple[float, float]:
        stat = stat_total / n
        return loss_total / n, math.sqrt(stat) if self.metric == "rmse" else stat


def sample_weights(y, sample_weight=None, class_weight: dict | None = None) -> np.ndarray:
    """Per-sample loss weights: ``sample_weight`` times the class's weight, as Keras."""
    w = np.ones(len(y), np.float32) if sample_weight is None else np.asarray(sample_weight,
                                                                             np.float32)
    if class_weight:
        y = np.asarray(y)
        labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
        table = np.ones(max(class_weight) + 1, np.float32)
        for k, v in class_weight.items():
            table[k] = v
        w = w * table[labels.astype(int)]
    return w


def fit(model: keras.Model, x, y, *, epochs: int, batch_size: int, validation_data=None,
        callbacks=(), verbose="auto", seed: int = 0, shuffle: bool = True,
        sample_weight=None, class_weight: dict | None = None):
    """Train a compiled Keras model like ``model.fit``; returns its ``History``.

    The model must be compiled with a loss named as in ``training.loss_and_metrics``
    and one metric, "accuracy" or "rmse". Weighted losses follow Keras: the batch
    loss is the sum of weight x loss over the batch's samples, divided by their
    count; metrics are not weighted.
    """
    import jax.numpy as jnp

    enable_compilation_cache()
    loss = model.loss if isinstance(model.loss, str) else model.loss.name
    metric = "rmse" if loss == "mse" else "accuracy"
    engine = _Engine(model, loss, metric)
    model.optimizer.build(model.trainable_variables)
    x_dev, y_dev = jnp.asarray(x), jnp.asarray(y)
    w_dev = jnp.asarray(sample_weights(y, sample_weight, class_weight))
    valid = None
    if validation_data is not None:
        valid = (jnp.asarray(validation_data[0]), jnp.asarray(validation_data[1]))
    n = len(x)
    steps = math.ceil(n / batch_size)
    verbose = 1 if verbose == "auto" else verbose
    cb = keras.callbacks.CallbackList(list(callbacks), add_history=True,
                                      add_progbar=verbose != 0, model=model, verbose=verbose,
                                      epochs=epochs, steps=steps)
    rng = np.random.default_rng(seed)
    state = engine.state()
    model.stop_training = False
    cb.on_train_begin()
    for epoch in range(epochs):
        cb.on_epoch_begin(epoch)
        order = rng.permutation(n) if shuffle else np.arange(n)
        # pad the index list to whole blocks; the mask drops what is past the end
        padded = np.zeros(math.ceil(steps / BLOCK) * BLOCK * batch_size, np.int32)
        padded[:n] = order
        mask = (np.arange(len(padded)) < n).astype(np.float32)
        idx = padded.reshape(-1, BLOCK, batch_size)
        mask = mask.reshape(-1, BLOCK, batch_size)
        loss_total = stat_total = 0.0
        done = 0
        for b in range(len(idx)):
            n_steps = min(BLOCK, steps - done)
            *state, l, s = engine.train_block(tuple(state), x_dev, y_dev, w_dev, idx[b],
                                              mask[b], n_steps)
            if epoch == 0 and b == 0 and valid is not None:
                engine.precompile_evaluate(state, *valid)
            loss_total += float(l)
            stat_total += float(s)
            done += n_steps
            seen = min(done * batch_size, n)
            running = engine.finish(loss_total, stat_total, seen)
            cb.on_train_batch_end(done - 1, {"loss": running[0], metric: running[1]})
        logs = dict(zip(("loss", metric), engine.finish(loss_total, stat_total, n)))
        if valid is not None:
            logs.update(zip(("val_loss", f"val_{metric}"), engine.evaluate(state, *valid)))
        engine.write_back(state)  # callbacks (EarlyStopping, checkpoints) see the weights
        cb.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    # EarlyStopping may have restored the best weights into the model: keep them
    cb.on_train_end()
    return model.history
