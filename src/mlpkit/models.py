"""MLP builders: Sequential stacks, and ensembles of them.

``seed_classifier()`` and ``seed_regressor()`` are exactly the lecture's models;
``build_mlp()`` makes any stack of the same kind from a spec.
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np

from mlpkit.errors import ModelError


def _powers_of_ten(x: np.ndarray, skip: list[int],
                   names: Sequence[str] | None = None) -> np.ndarray | None:
    """A power of ten for each feature whose spread is far from 1 (a standard deviation
    below about 3e-6 or above 3e5, 1 elsewhere and on the ``skip`` columns), to rescale it
    before the Normalization: float32 statistics overflow above 1e19 and Normalization
    divides by at least its epsilon, 1e-7, so a concentration of 5e-8 +- 1e-8 would reach
    the model shrunk tenfold and a column of 1e-20s as zeros. None where none is."""
    x = x.reshape(len(x), -1).astype(np.float64)
    with np.errstate(all="ignore"):
        std, mean = x.std(axis=0), x.mean(axis=0)
    power = np.zeros(x.shape[1])
    # constant up to rounding (1e-3 and the next float): left for _not_flat, not blown up
    usable = np.isfinite(std) & (std > 1e-6 * np.abs(mean)) & (std > 0)
    power[usable] = np.round(np.log10(std[usable]))
    power[skip] = 0
    power[np.abs(power) < 6] = 0
    if not power.any():
        return None
    import logging

    scaled = np.flatnonzero(power)
    names = list(names or [])
    which = ", ".join(f"{names[i] if i < len(names) else f'feature {i}'} (x 1e{-int(power[i])})"
                      for i in scaled[:5]) + (", ..." if len(scaled) > 5 else "")
    n = len(scaled)
    logging.getLogger("mlpkit").info(
        f"{n} input feature{'s' * (n > 1)} of very small or large spread rescaled by powers "
        f"of ten before the normalization: {which} (float32 statistics and its epsilon "
        f"could not hold {'them' if n > 1 else 'it'})")
    return (10.0 ** -power).astype(np.float32)


def _not_flat(mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``var`` with 1 for the features that were constant in the training rows (up to
    float rounding): Normalization divides by max(sqrt(variance), 1e-7), so another value
    there at predict time (a year the training dates never left) would reach the model
    multiplied by ten million; with variance 1 it passes as its distance from the mean."""
    flat = np.asarray(var) <= (1e-6 * np.abs(mean)) ** 2
    if flat.any():
        import logging

        logging.getLogger("mlpkit").info(
            f"{int(flat.sum())} of {flat.size} input features constant in the training rows: "
            "not scaled (a value seen later passes as its distance from theirs)")
    return np.where(flat, 1.0, var).astype(np.asarray(var).dtype)


def build_mlp(
    input_shape: Sequence[int],
    hidden: Sequence[int] = (300, 100),
    activation: str = "relu",
    outputs: int = 10,
    output_activation: str | None = "softmax",
    dropout: float = 0.0,
    normalize: np.ndarray | None = None,
    categorical: dict[int, int] | None = None,
    embedding: tuple = ("none", 16, 0.1),
    members: int = 1,
    target: tuple | None = None,
    augment: tuple = ("none", 0),
    coordinates: tuple | None = None,
    l2: float = 0.0,
    feature_names: Sequence[str] | None = None,
) -> keras.Model:
    """Build ``Input -> (Flatten | Normalization) -> Dense* -> Dense(outputs)``.

    Args:
        input_shape: shape of one instance, without the batch size.
        hidden: units of each hidden Dense layer.
        activation: activation of the hidden layers (any Keras name).
        outputs: units of the output layer.
        output_activation: "softmax", "sigmoid", or ``None`` for regression.
        dropout: rate of a Dropout layer after each hidden layer (0: none).
        normalize: training features to adapt a ``Normalization`` layer on; when
            given the model starts with it instead of ``Flatten``.
        categorical: {column: codes} of integer-coded category columns of
            ``normalize``; they skip normalization and are one-hot encoded.
        embedding: ``(kind, size, sigma)``; kind "periodic" embeds each normalized
            feature (``layers.PeriodicEmbedding``) before the Dense layers.
        members: more than 1 builds an ensemble: that many MLPs of this spec, each
            with its own weights (and embedding; for images, its own augmentation)
            after the shared input layers, whose outputs ``layers.MemberMean``
            averages. mlpkit's jitted loop trains each member on its own loss (see
            ``jax_loop``), as if trained apart.
        target: ``(mean, std)`` of the regression targets (one value per output): the
            output layer then learns standardized targets and a fixed ``Rescaling``
            after it (each member's) returns ``output * std + mean``.
        augment: ``(flip, shift)`` for images, in training only:
            ``layers.RandomFlip(flip)`` (Keras's) unless flip is "none", then
            ``layers.RandomShift(shift)`` unless shift is 0, before ``Flatten`` (the Dense
            layers stay a pure MLP). Each member of an ensemble has its own, so each
            sees its own flips and shifts of a batch, as if trained apart.
        coordinates: ``((y, x), rotations)`` for feature vectors: the model starts with
            ``layers.RotatedCoordinates``, which appends ``rotations`` rotated views of
            the columns ``y`` and ``x`` (latitude and longitude, say); the
            normalization is adapted on them too. Its members share them.
        feature_names: the names of ``normalize``'s columns, for the notes.
        l2: above 0, an ``L2(l2)`` penalty on the kernel of every Dense layer
            (scikit-learn's ``alpha``: see ``mlpkit.sklearn``); such a model trains in
            Keras's ``fit``, which adds the layers' losses.

    Returns:
        An uncompiled ``keras.Sequential`` (a functional ``keras.Model`` for an
        ensemble).

    Raises:
        ModelError: on an unknown activation, or augmentation of inputs other than images.
    """
    check_activations(activation, output_activation)
    if (augment[0] != "none" or augment[1]) and (normalize is not None
                                                    or not 2 <= len(input_shape) <= 3):
        raise ModelError("random_flip and random_shift augment images (height x width, "
                         "with or without channels); these inputs are "
                         f"{'feature vectors' if len(input_shape) == 1 else input_shape}: "
                         "drop --random-flip and --random-shift. Received: "
                         f"random_flip={augment[0]!r}, random_shift={augment[1]}")
    layers: list = [keras.Input(shape=tuple(input_shape))]
    own_view = False  # an ensemble whose members each augment the images on their own
    if coordinates is not None:
        if normalize is None:
            raise ModelError("coordinates rotates two columns of a table; these inputs are "
                             f"{tuple(input_shape)}: drop --coordinates. Received: "
                             f"coordinates={list(coordinates[0])}")
        from mlpkit.layers import RotatedCoordinates

        rotate = RotatedCoordinates(list(coordinates[0]),
                                    RotatedCoordinates.angles_for(coordinates[1]))
        layers.append(rotate)
        normalize = np.asarray(rotate(np.asarray(normalize, np.float32)))
    if normalize is not None:
        factors = _powers_of_ten(np.asarray(normalize), sorted(categorical or {}),
                                 feature_names)
        if factors is not None:
            layers.append(keras.layers.Rescaling(scale=factors, name="powers_of_ten",
                                                 dtype="float32"))  # (float16: 1e-20 is 0)
            normalize = np.asarray(normalize, np.float64) * factors
    if normalize is not None and categorical:
        from mlpkit.layers import OneHotColumns

        # what adapt() computes, with mean 0 and variance 1 on the code columns
        mean = normalize.mean(axis=0)
        var = normalize.var(axis=0)
        cols = sorted(categorical)
        mean[cols], var[cols] = 0.0, 1.0
        layers.append(keras.layers.Normalization(mean=mean, variance=_not_flat(mean, var)))
        layers.append(OneHotColumns(cols, [categorical[c] for c in cols]))
    elif normalize is not None:
        norm = keras.layers.Normalization()
        norm.adapt(normalize)
        var = np.asarray(norm.adapt_variance)
        kept = _not_flat(np.asarray(norm.adapt_mean), var)
        if (kept != var).any():
            norm.adapt_variance.assign(kept)
            norm.finalize_state()
        layers.append(norm)
    elif len(input_shape) > 1:
        # an ensemble's members each draw their own flips and shifts (see member() below)
        own_view = members > 1 and (augment[0] != "none" or bool(augment[1]))
        if not own_view:
            layers += _augmentation(tuple(input_shape), *augment)
            layers.append(keras.layers.Flatten())
    if embedding[0] == "periodic" and (normalize is None or categorical):
        raise ModelError("embedding = periodic applies to numeric feature vectors "
                         "(tables without category columns). Received: embedding="
                         f"{embedding[0]!r}")

    def penalty():
        return keras.regularizers.L2(l2) if l2 else None

    def member(i=None, dtype=None) -> list:
        # an ensemble's layers are named member<i>_...: Keras's names, unique in the model
        def name(kind):
            return None if i is None else f"member{i}_{kind}"

        stack: list = []
        if own_view:
            stack += _augmentation(tuple(input_shape), *augment, name=name)
            stack.append(keras.layers.Flatten(name=name("flatten")))
        if embedding[0] == "periodic":
            from mlpkit.layers import PeriodicEmbedding

            stack.append(PeriodicEmbedding(embedding[1], sigma=embedding[2],
                                           name=name("embedding")))
        for j, units in enumerate(hidden):
            stack.append(keras.layers.Dense(units, activation=activation,
                                            kernel_regularizer=penalty(),
                                            name=name(f"dense_{j}")))
            if dropout:
                stack.append(keras.layers.Dropout(dropout, name=name(f"dropout_{j}")))
        if target is not None:  # outputs in float32 under a mixed policy, then rescaled
            stack.append(keras.layers.Dense(outputs, activation=output_activation,
                                            kernel_regularizer=penalty(),
                                            dtype="float32", name=name("output")))
            stack.append(keras.layers.Rescaling(scale=list(target[1]), offset=list(target[0]),
                                                dtype="float32", name=name("target_units")))
        else:
            stack.append(keras.layers.Dense(outputs, activation=output_activation,
                                            kernel_regularizer=penalty(),
                                            dtype=dtype, name=name("output")))
        return stack

    if members == 1:
        return keras.Sequential(layers + member())
    if members < 1:
        raise ModelError(f"members must be >= 1. Received: members={members}")
    from mlpkit.layers import MemberMean

    inputs, shared = layers[0], layers[1:]
    x = inputs
    for layer in shared:
        x = layer(x)
    ends = []
    for i in range(members):
        h = x
        for layer in member(i, dtype="float32"):  # outputs in float32 under a mixed policy
            h = layer(h)
        ends.append(h)
    return keras.Model(inputs, MemberMean(dtype="float32", name="mean")(ends))


def check_activations(*names) -> None:
    """Refuse a name that is no Keras activation (``None``: no activation), with the fix."""
    for name in set(names) - {None}:
        try:
            keras.activations.get(name)
        except ValueError:
            raise ModelError(f"unknown activation {name!r}. Use a Keras activation such as "
                             f"relu, elu, selu, tanh, sigmoid. Received: activation={name!r}")


def _augmentation(shape: tuple, flip: str, shift: int, name=lambda kind: None) -> list:
    """The training-only augmentation layers for images of ``shape`` (H, W[, C]), named
    ``name(kind)`` (``None``: Keras's names)."""
    if flip == "none" and not shift:
        return []
    if shift >= min(shape[:2]):
        raise ModelError(f"random_shift must be smaller than the images ({shape[0]}x"
                         f"{shape[1]} pixels). Received: random_shift={shift}")
    from mlpkit.layers import RandomFlip, RandomShift

    stack = [keras.layers.Reshape((*shape, 1), name=name("reshape"))] if len(shape) == 2 else []
    if flip != "none":
        stack.append(RandomFlip(flip, name=name("random_flip")))
    if shift:
        stack.append(RandomShift(shift, name=name("random_shift")))
    return stack


def seed_classifier() -> keras.Sequential:
    """The lecture's Fashion-MNIST classifier: 266,610 parameters.

    After ``keras.backend.clear_session()`` its layers are named flatten, dense,
    dense_1 and dense_2.
    """
    return build_mlp((28, 28), (300, 100), "relu", 10, "softmax")


def seed_regressor(x_train: np.ndarray) -> keras.Sequential:
    """The lecture's California housing regressor.

    A ``Normalization`` layer adapted on ``x_train`` (the training features only),
    four ``Dense(50, activation="relu")`` and ``Dense(1)``.
    """
    return build_mlp(x_train.shape[1:], (50, 50, 50, 50), "relu", 1, None, normalize=x_train)


def summary_text(model: keras.Model) -> str:
    """``model.summary()`` as plain text (no terminal colours)."""
    lines: list[str] = []
    model.summary(print_fn=lambda line, line_break=True: lines.append(line))
    return "\n".join(lines) + "\n"
