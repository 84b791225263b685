"""Mixed precision through Keras's dtype policies: ``--precision``.

- ``float32`` (default): everything in float32, as the lecture.
- ``mixed_bfloat16``: layers compute in bfloat16, variables stay float32 (Keras's
  ``mixed_bfloat16`` policy). bfloat16 has float32's range, so no loss scaling.
- ``mixed_float16``: layers compute in float16, variables float32. float16's small
  range lets small gradients underflow to 0, so ``model.compile`` wraps the
  optimizer in Keras's ``LossScaleOptimizer`` (dynamic loss scaling: the loss is
  multiplied by a scale before the gradients and they are divided by it after;
  a step whose gradients overflow is skipped and the scale halved). mlpkit's
  jitted loop scales the loss the way Keras's JAX trainer does.

The policy is set with ``keras.config.set_dtype_policy`` while the model is built
(and put back after), so every layer takes it; the output layer alone is switched
back to float32 (Keras's advice: softmax and sigmoid outputs and the loss in
float32, where bfloat16's 8 bits of mantissa would round probabilities). The
policy of each layer is saved in ``model.keras``.

What it does to speed depends on the hardware: GPUs and TPUs have bfloat16 and
float16 matrix units (several times float32's rate); most CPUs have not, and XLA
emulates them there, so on CPU mixed precision is slower (see
``benchmarks/bench_devices.py``).
"""

from __future__ import annotations

import contextlib


@contextlib.contextmanager
def use(precision: str):
    """Build models under ``precision``'s dtype policy within this block."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def finish_model(model, precision: str):
    """The output layer in float32 under a mixed policy (see the module docstring);
    returns the model."""
    if precision != "float32" and model.layers:
        model.layers[-1].dtype_policy = "float32"
    return model


def wrap_optimizer(optimizer, precision: str):
    """``optimizer`` in Keras's ``LossScaleOptimizer`` for ``mixed_float16``. ``compile``
    would wrap it too, but then the compile config saved in ``model.keras`` names the
    bare optimizer and Keras, loading it, warns that the saved optimizer's variables
    do not match; wrapped here, the file reloads whole."""
    import keras

    if precision == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


def loss_scaled(model) -> bool:
    """Does the compiled model's optimizer scale the loss (a ``LossScaleOptimizer``)?"""
    import keras

    return isinstance(getattr(model, "optimizer", None),
                      keras.optimizers.LossScaleOptimizer)


def describe(model, precision: str) -> dict:
    """What the manifest records: the policy, the dtypes it gives and loss scaling."""
    import keras

    policy = keras.dtype_policies.get(precision)
    return {"policy": precision, "compute_dtype": policy.compute_dtype,
            "variable_dtype": policy.variable_dtype,
            "output_dtype": model.layers[-1].compute_dtype if model.layers else None,
            "loss_scaling": ("dynamic (keras.optimizers.LossScaleOptimizer)"
                             if loss_scaled(model) else None)}
