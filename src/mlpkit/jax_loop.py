"""A jitted JAX training loop for Keras models: ``fit`` without per-step overhead.

At batch 32 the lecture's model does little arithmetic per step, and Keras's
``fit`` spends most of each step in Python and dispatch. This loop keeps the
data on the device, runs many steps per compiled call (``lax.fori_loop`` over a
block of shuffled batch indices), and drives Keras's own callbacks (progress bar,
History, EarlyStopping, mlpkit's CSV history) between calls. The arithmetic is
the same as ``fit``: the Keras model through ``stateless_call``, the Keras
optimizer through ``stateless_apply``, the loss and metric of ``mlpkit.metrics``
(as evaluation), a fresh shuffle every epoch, and a last smaller batch (1,719
steps of 32 on 55,000 images, the last of 24), run as its own compiled step:
padding it would put the padding rows in BatchNormalization's batch statistics.
The only difference is the random order of the shuffles: each epoch's is drawn
from ``(seed, epoch)`` alone, not from a running random state, so that a run
resumed at any epoch shuffles as the uninterrupted run did.

Callbacks see what they would see in ``fit``: the state goes back into the
model's variables before each callback hook and is read from them after, so a
learning rate set by ``ReduceLROnPlateau`` or ``LearningRateScheduler`` takes
effect. In between, the compiled calls donate the state's buffers (no copy of
weights and optimizer slots per call), deleting those the variables point at;
so Ctrl-C (and SIGTERM, where a Python handler is installed for it, as the
command line does) waits for the running block to end (a second one interrupts
at once) and any exception writes the latest state back: the model stays usable.

Resuming: ``fit(start=Position(...))`` continues from where a checkpoint was taken,
repeating no step, and ``on_block_end(position, interrupted)`` is called whenever
the model's variables hold the state at ``position`` (after every compiled call,
and when an interrupt stops the loop) for the caller to save. A compiled call
always ends at the same steps for one configuration (every ``BLOCK`` steps from
the start of the epoch, and at every multiple of ``cut_every`` steps), so a
resumed run adds up its losses in the same order and logs the same figures.

Several devices: under a Keras ``DataParallel`` distribution (``distribution.py``) the
data is replicated on the devices and each gathered batch is laid out along its first
axis, so each device computes its share of the batch and XLA adds the gradients up
across devices; the state stays replicated. Mixed precision (``precision.py``): the
loss is computed in float32 from the model's outputs, and under ``mixed_float16``
scaled by the ``LossScaleOptimizer``'s current scale (part of the held state), as
Keras's JAX trainer does; its ``stateless_apply`` unscales and skips overflowing steps.

Ensembles (``models.build_mlp(members=k)``): the loop computes the members' outputs
(``layers.member_outputs``, the same layers and variables) and minimizes the sum of
their own losses on each batch, so each member gets the gradient it would get trained
alone on the same batches, and with a per-weight optimizer (SGD, Adam, AdamW...) the
same updates. Under ``mixed_float16`` the loss scale is shared, so one member's
overflow skips the step for all. The logged training loss is the members' mean loss
(the metric: their mean accuracy, or the root of their mean squared error); the
validation figures are the ensemble's (its mean output).

Used by ``training.fit`` on the JAX backend (``engine = "auto"``) for models
``supported`` accepts; Keras's ``fit`` trains the others (never an ensemble), and
``engine = "keras"``.
"""

from __future__ import annotations

import dataclasses
import math
import signal
import threading

import keras
import numpy as np

from mlpkit import distribution, errors, layers, metrics
from mlpkit.errors import Interrupted

BLOCK = 128  # training steps per compiled call: progress bar updates ~14 times an epoch
EVAL_BATCH = 1024


@dataclasses.dataclass(frozen=True)
class Position:
    """Where training stands between two compiled calls: ``epoch`` (0-based) is the
    epoch under way, ``step`` the steps of it done (0: not begun), and ``loss_total``,
    ``stat_total`` and ``seen`` the running sums its logged loss and metric are made
    of. Resuming at a position repeats none of its steps and logs the same figures."""

    epoch: int = 0
    step: int = 0
    loss_total: float = 0.0
    stat_total: float = 0.0
    seen: int = 0


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


def _compiled_loss(loss) -> tuple[str, dict]:
    """The compiled loss (``model.loss``) as ``(name in metrics.LOSSES, options)``, the
    options ``metrics.per_sample`` takes: a name; one of Keras's cross-entropy classes
    (or mlpkit's smoothed sparse one, ``metrics.keras_loss``) itself, not a subclass,
    with every setting at its default but ``label_smoothing``; or mlpkit's
    ``ScaledMeanSquaredError`` (several regression targets). Raises ValueError for any
    other."""
    if isinstance(loss, str) and loss in metrics.LOSSES:
        return loss, {}
    names = {keras.losses.CategoricalCrossentropy: "categorical_crossentropy",
             keras.losses.BinaryCrossentropy: "binary_crossentropy",
             keras.losses.SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
             metrics.SparseCategoricalCrossentropy: "sparse_categorical_crossentropy",
             metrics.ScaledMeanSquaredError: "mse"}
    if type(loss) in names:
        config = loss.get_config()
        if (not config.get("from_logits", False) and config.get("axis", -1) == -1
                and config.get("ignore_class") is None
                and loss.reduction == "sum_over_batch_size"
                and keras.backend.standardize_dtype(loss.dtype) == "float32"):
            return names[type(loss)], metrics.loss_options(loss)
    raise ValueError(f"the jitted loop implements the losses {', '.join(metrics.LOSSES)} "
                     f"(float32, from probabilities, smoothed at most; the mean squared error "
                     f"also scaled per output). Received: loss={_name(loss)!r}")


def _loss_and_metric(model: keras.Model) -> tuple[str, str | None, dict]:
    """The compiled loss (a name in ``metrics.LOSSES``), the name its metric logs
    under (``None``: no metric) and the loss's options (``_compiled_loss``). Raises ValueError
    saying why the loop cannot."""
    if keras.backend.backend() != "jax":
        raise ValueError("the jitted loop needs the JAX backend. "
                         f"Received: backend={keras.backend.backend()!r}")
    if model.losses:
        raise ValueError("the jitted loop does not add the losses of layers (regularizers)")
    config = model.get_compile_config()
    if not config:
        raise ValueError("the model is not compiled")
    loss, options = _compiled_loss(model.loss)
    if config.get("loss_weights") or config.get("weighted_metrics"):
        raise ValueError("the jitted loop does not implement loss_weights or weighted_metrics")
    compiled = config.get("metrics") or []
    expected = metrics.metric_for(loss)
    if not compiled:
        return loss, None, options
    if isinstance(compiled, list) and len(compiled) == 1:
        m = compiled[0]
        if expected == "accuracy" and m == "accuracy":
            return loss, "accuracy", options
        if (loss == "binary_crossentropy" and isinstance(m, dict)
                and _name(m) == "BinaryAccuracy"
                and m["config"].get("threshold") == metrics.THRESHOLD):
            return loss, m["config"]["name"], options  # per label, as Keras's
        if expected == "rmse" and isinstance(m, dict) and _name(m) == "RootMeanSquaredError":
            return loss, m["config"]["name"], options  # logged under the name it was given
    raise ValueError(f"the jitted loop reports only {expected!r} beside {loss!r}. "
                     f"Received: metrics={[_name(m) for m in compiled]}")


def _name(spec) -> str:
    """A loss or metric: a name, a config (``get_compile_config``) or an object."""
    if isinstance(spec, dict):
        return spec.get("class_name", str(spec))
    return spec if isinstance(spec, str) else type(spec).__name__


def unsupported(model: keras.Model) -> str | None:
    """Why this loop cannot train ``model`` (Keras's ``fit`` can), or ``None``."""
    try:
        _loss_and_metric(model)
    except ValueError as e:
        return str(e)
    return None


def supported(model: keras.Model) -> bool:
    """JAX backend, no losses from layers, a loss and metric this loop implements?"""
    return unsupported(model) is None


def _member_forward(model: keras.Model):
    """``stateless_call`` of an ensemble's member outputs (``layers.member_outputs``),
    taking and returning the variable values in the ensemble's own order."""
    view = layers.member_outputs(model)
    where = {id(v): i for i, v in enumerate(model.trainable_variables)}
    t_index = [where[id(v)] for v in view.trainable_variables]
    where = {id(v): i for i, v in enumerate(model.non_trainable_variables)}
    n_index = [where[id(v)] for v in view.non_trainable_variables]
    if (sorted(t_index) != list(range(len(model.trainable_variables)))
            or sorted(n_index) != list(range(len(model.non_trainable_variables)))):
        raise ValueError("an ensemble's member outputs do not hold all of its variables")

    def forward(tv, ntv, x, training):
        outs, new = view.stateless_call([tv[i] for i in t_index], [ntv[i] for i in n_index], x,
                                        training=training)
        ntv = list(ntv)
        for i, value in zip(n_index, new):
            ntv[i] = value
        return outs, ntv

    return forward


class _Engine:
    """Compiled training and evaluation for one compiled model, its data on the
    device, and the training state while the loop holds it (``held``)."""

    def __init__(self, model: keras.Model, loss: str, metric: str, data, valid,
                 options: dict | None = None):
        import jax
        import jax.numpy as jnp

        self.model, self.metric = model, metric
        options = options or {}  # metrics.per_sample's: label_smoothing or scale
        self.data, self.valid = data, valid  # (x, y, weights); validation (x, y) or None
        self.held = None  # the state while the loop holds it; None while the model does
        self._eval_exec = self._eval_thread = None  # see precompile_evaluate
        optimizer = model.optimizer
        # mixed_float16: Keras's LossScaleOptimizer (see precision.py) scales the loss
        scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        k = layers.members(model)
        forward = model.stateless_call
        if k > 1:  # an ensemble: trained through its members' outputs (_member_forward)
            forward = _member_forward(model)

        def loss_fn(tv, ntv, ov, x, y, w):
            # several devices: each computes its share of the batch (distribution.py)
            x, y, w = (distribution.constrain_batch(a) for a in (x, y, w))
            y_pred, ntv = forward(tv, ntv, x, training=True)
            n = x.shape[0]
            if k > 1:  # (batch x members, outputs), row b*k+j member j's: each its own loss
                y_pred = jnp.stack(y_pred, axis=1).reshape((n * k, *y_pred[0].shape[1:]))
                y, w = jnp.repeat(y, k, axis=0), jnp.repeat(w, k, axis=0)
            # the loss in float32 under a mixed precision policy, as Keras's losses
            losses, stats = metrics.per_sample(loss, y, y_pred.astype("float32"), **options)
            loss_sum = jnp.sum(losses * w)
            # Keras's "sum_over_batch_size": sum of weight x loss over the batch / count.
            # An ensemble minimizes the sum of its members' losses, so each member gets
            # the gradient it would alone; it logs their mean.
            mean = loss_sum / n
            if scaled:  # with the scale the state holds, as Keras's JAX trainer does
                with keras.StatelessScope(state_mapping=list(zip(optimizer.variables, ov))):
                    mean = optimizer.scale_loss(mean)
            return mean, (ntv, loss_sum / k, jnp.sum(stats) / k)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def train_step(state, x_all, y_all, w_all, rows):
            tv, ntv, ov = state
            x, y, w = (jnp.take(a, rows, axis=0) for a in (x_all, y_all, w_all))
            (_, (ntv, loss_sum, stat_sum)), grads = grad_fn(tv, ntv, ov, x, y, w)
            tv, ov = optimizer.stateless_apply(ov, grads, tv)
            return (tv, ntv, ov), loss_sum, stat_sum

        def train_block(state, x_all, y_all, w_all, idx, n_steps):
            def step(i, carry):
                state, loss_total, stat_total = carry
                state, loss_sum, stat_sum = train_step(state, x_all, y_all, w_all, idx[i])
                return state, loss_total + loss_sum, stat_total + stat_sum

            zero = jnp.zeros((), "float32")
            return jax.lax.fori_loop(0, n_steps, step, (state, zero, zero))

        def evaluate(tv, ntv, x, y, mask):
            x = distribution.constrain_batch(x)
            y_pred, _ = model.stateless_call(tv, ntv, x, training=False)
            losses, stats = metrics.per_sample(loss, y, y_pred.astype("float32"), **options)
            return jnp.sum(losses * mask), jnp.sum(stats * mask)

        self.train_block = jax.jit(train_block, donate_argnums=(0,))
        self.train_step = jax.jit(train_step, donate_argnums=(0,))  # the last, smaller batch
        self.evaluate_batch = jax.jit(evaluate)

    def take(self) -> None:
        """Hold the state as the model's variables have it (a callback may have set it)."""
        m = self.model
        self.held = ([v.value for v in m.trainable_variables],
                     [v.value for v in m.non_trainable_variables],
                     [v.value for v in m.optimizer.variables])

    def give_back(self) -> None:
        """Write the held state into the model's variables. Nothing to write if a compiled
        call was interrupted after taking the buffers donated to it."""
        if self.held is None or any(a.is_deleted() for part in self.held for a in part):
            return
        m = self.model
        for variables, values in zip((m.trainable_variables, m.non_trainable_variables,
                                      m.optimizer.variables), self.held):
            for var, value in zip(variables, values):
                var.assign(value)
        self.held = None

    def train_epoch(self, order, batch_size: int, interrupt, batch_end, cuts=(),
                    start: Position | None = None) -> tuple:
        """One epoch over the rows in ``order``: whole batches in compiled blocks of at
        most ``BLOCK`` steps, also ending at the steps in ``cuts``, then the last,
        smaller batch at its real size. ``start`` (a position in this epoch) skips
        the steps done before it and carries on its sums. After each call,
        ``batch_end(step, loss_sum, stat_sum, rows)``; a true result ends the epoch.
        Returns the loss and metric sums and the rows seen."""
        full, rest = divmod(len(order), batch_size)
        batches = order[:full * batch_size].reshape(full, batch_size)
        bounds = sorted({*range(0, full, BLOCK), *(c for c in cuts if 0 < c < full), full})
        spans = list(zip(bounds, bounds[1:])) + ([(full, full + 1)] if rest else [])
        start = start or Position()
        if start.step not in {a for a, _ in spans} | {full + (rest > 0)}:
            raise ValueError(f"cannot resume at step {start.step}: not where a compiled "
                             f"call ends. Received: start={start}")
        loss_total, stat_total, seen, done = (start.loss_total, start.stat_total,
                                              start.seen, start.step)
        for first, end in spans:
            if first < done:
                continue  # done before the checkpoint this run resumed from
            interrupt.check()
            if first < full:
                idx = np.zeros((BLOCK, batch_size), np.int32)  # rows past `end`: not run
                idx[:end - first] = batches[first:end]
                self.held, l, s = self.train_block(self.held, *self.data,
                                                   distribution.place(idx), end - first)
            else:
                self.held, l, s = self.train_step(self.held, *self.data,
                                                  distribution.place(order[full * batch_size:]))
            n_steps = end - first
            if (self.valid is not None and self._eval_exec is None
                    and self._eval_thread is None):
                self.precompile_evaluate()
            loss_total += float(l)
            stat_total += float(s)
            done += n_steps
            seen = min(done * batch_size, len(order))
            if batch_end(done - 1, loss_total, stat_total, seen):
                break
        return loss_total, stat_total, seen

    def precompile_evaluate(self) -> None:
        """Trace the evaluation now and compile it in a thread while the first training
        block runs on the device. Tracing stays in this thread: JAX's settings (such
        as ``default_matmul_precision``) are per thread, and the trace captures them."""
        import jax

        if distribution.current() is not None:
            return  # several devices: evaluate_batch, compiled at its first call
        x, y = self.valid
        size = min(EVAL_BATCH, len(x))
        spec = lambda a, rows=None: jax.ShapeDtypeStruct(  # noqa: E731
            a.shape if rows is None else (rows, *a.shape[1:]), a.dtype)
        lowered = self.evaluate_batch.lower(
            [spec(v) for v in self.held[0]], [spec(v) for v in self.held[1]],
            spec(x, size), spec(y, size), jax.ShapeDtypeStruct((size,), "float32"))

        def work():
            self._eval_exec = lowered.compile()

        self._eval_thread = threading.Thread(target=work, daemon=True)
        self._eval_thread.start()

    def evaluate(self) -> tuple[float, float]:
        """Mean loss and metric over the validation data, in fixed-size batches."""
        import jax.numpy as jnp

        if self._eval_thread is not None:
            self._eval_thread.join()
            self._eval_thread = None
        run = self._eval_exec or self.evaluate_batch
        x, y = self.valid
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
            l, s = run(self.held[0], self.held[1], xb, yb, mask)
            loss_total += float(l)
            stat_total += float(s)
        return metrics.finish(loss_total, stat_total, n, self.metric)


class _DeferredInterrupt:
    """Ctrl-C during ``fit`` (and SIGTERM, where a Python handler is installed for it)
    sets a flag that the loop checks between compiled calls, where it can write the
    state back and save it; the first signal restores the previous handlers, so a
    second one interrupts at once. Only the main thread can install it."""

    def __init__(self):
        self.requested, self.previous = None, {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(signum)
                # SIGINT: unless not set from Python, or ignored; SIGTERM: only where a
                # Python handler would turn it into an exception (the default kills)
                if (previous not in (None, signal.SIG_IGN) if signum == signal.SIGINT
                        else callable(previous)):
                    self.previous[signum] = signal.signal(signum, self._handle)

    def _handle(self, signum, frame):
        self.requested = signum
        self.restore()

    def restore(self) -> None:
        for signum, previous in self.previous.items():
            signal.signal(signum, previous)
        self.previous = {}

    def check(self) -> None:
        if self.requested is not None:
            self.restore()
            raise Interrupted(self.requested, signal.Signals(self.requested).name)
        errors.check_stop()  # a signal before fit whose exception Python dropped


def sample_weights(y, sample_weight=None, class_weight: dict | None = None) -> np.ndarray:
    """Per-sample loss weights: ``sample_weight`` times the class's weight, as Keras."""
    w = np.asarray(np.ones(len(y)) if sample_weight is None else sample_weight, np.float32)
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
        sample_weight=None, class_weight: dict | None = None,
        start: Position | None = None, on_block_end=None, cut_every: int = 0):
    """Train a compiled Keras model like ``model.fit``; returns its ``History``.

    The model must be one ``supported`` accepts: a loss in ``metrics.LOSSES`` and
    at most one metric, the one ``metrics.metric_for`` names. Weighted losses
    follow Keras: the batch loss is the sum of weight x loss over the batch's
    samples, divided by their count; metrics are not weighted.

    Args:
        start: resume here (the model and callbacks already hold the state of that
            position); ``None``: from the beginning.
        on_block_end: ``on_block_end(position, interrupted)``, called while the
            model's variables hold the state at ``position``: after every compiled
            call, and (``interrupted=True``) when a signal stops the loop.
        cut_every: also end a compiled call at every multiple of this many steps,
            counted over all epochs (where checkpoints are taken); 0: no extra cuts.

    Raises:
        ValueError: the model is not one this loop can train.
        KeyboardInterrupt: Ctrl-C; the model keeps the weights of the last block.
            ``errors.Interrupted`` when the loop stopped at a step boundary.
    """
    try:
        loss, metric_name, options = _loss_and_metric(model)
    except ValueError as e:
        raise ValueError(f"{e}. Train this model with model.fit instead.") from None
    enable_compilation_cache()
    metric = metrics.metric_for(loss)
    names = ("loss",) if metric_name is None else ("loss", metric_name)
    # on the device; with several devices, on each of them (distribution.place)
    data = (distribution.place(x), distribution.place(y),
            distribution.place(sample_weights(y, sample_weight, class_weight)))
    valid = (None if validation_data is None
             else tuple(map(distribution.place, validation_data[:2])))
    engine = _Engine(model, loss, metric, data, valid, options)
    model.optimizer.build(model.trainable_variables)
    n = len(x)
    verbose = 1 if verbose == "auto" else verbose
    steps = math.ceil(n / batch_size)
    cb = keras.callbacks.CallbackList(list(callbacks), add_history=True,
                                      add_progbar=verbose != 0, model=model, verbose=verbose,
                                      epochs=epochs, steps=steps)
    position = start or Position()

    def batch_end(step, loss_total, stat_total, seen) -> bool:
        nonlocal position
        running = metrics.finish(loss_total, stat_total, seen, metric)
        engine.give_back()  # a callback may read the weights (checkpoints) or set them
        cb.on_train_batch_end(step, dict(zip(names, running)))
        position = Position(epoch, step + 1, loss_total, stat_total, seen)
        if on_block_end is not None:
            on_block_end(position, False)
        engine.take()
        return model.stop_training  # e.g. TerminateOnNaN: Keras ends the epoch there

    interrupt = _DeferredInterrupt()
    try:
        model.stop_training = False
        cb.on_train_begin()
        for epoch in range(position.epoch, epochs):
            cb.on_epoch_begin(epoch)
            engine.take()  # after the hook: a scheduler may have set the learning rate
            # each epoch's order from (seed, epoch) alone: a resumed run draws the same
            order = (np.random.default_rng([seed, epoch]).permutation(n) if shuffle
                     else np.arange(n)).astype(np.int32)
            cuts = ([c for c in range(1, steps) if (epoch * steps + c) % cut_every == 0]
                    if cut_every else ())
            loss_total, stat_total, seen = engine.train_epoch(
                order, batch_size, interrupt, batch_end, cuts,
                position if position.epoch == epoch else None)
            logs = dict(zip(names, metrics.finish(loss_total, stat_total, seen, metric)))
            if valid is not None:
                logs.update(zip((f"val_{k}" for k in names), engine.evaluate()))
            engine.give_back()  # callbacks (EarlyStopping, ReduceLROnPlateau) see the model
            cb.on_epoch_end(epoch, logs)
            position = Position(epoch + 1)
            if model.stop_training:
                break
        interrupt.check()
        # EarlyStopping may restore the best weights into the model: the loop is done
        cb.on_train_end()
    except Interrupted:  # at a step boundary: the state of `position` can be saved
        engine.give_back()
        if on_block_end is not None:
            on_block_end(position, True)
        raise
    finally:
        interrupt.restore()
        engine.give_back()  # after an exception: the latest state, not deleted buffers
    return model.history
