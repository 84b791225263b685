"""mlpkit's Keras layers, registered so that safe-mode loading accepts them."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="mlpkit")
class OneHotColumns(keras.layers.Layer):
    """One-hot encode the integer-coded columns of a feature matrix.

    Args:
        columns: indices of the categorical columns.
        depths: codes per column (its vocabulary plus one "unknown" code).

    The other columns pass through unchanged (they were normalized before).
    """

    def __init__(self, columns: list[int], depths: list[int], **kwargs):
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]
        self.depths = [int(d) for d in depths]

    def call(self, x):
        ops = keras.ops
        keep = [i for i in range(x.shape[-1]) if i not in self.columns]
        parts = [ops.take(x, keep, axis=-1)] if keep else []
        for col, depth in zip(self.columns, self.depths):
            code = ops.cast(ops.round(x[..., col]), "int32")
            parts.append(ops.one_hot(code, depth, dtype=x.dtype))
        return ops.concatenate(parts, axis=-1)

    def compute_output_shape(self, input_shape):
        width = input_shape[-1] - len(self.columns) + sum(self.depths)
        return (*input_shape[:-1], width)

    def get_config(self):
        return {**super().get_config(), "columns": self.columns, "depths": self.depths}


@keras.saving.register_keras_serializable(package="mlpkit")
class PeriodicEmbedding(keras.layers.Layer):
    """Embeds each numeric feature on its own: periodic, then linear, then ReLU ("PLR"
    of Gorishniy et al., "On Embeddings for Numerical Features in Tabular Deep
    Learning", 2022), flattened for the Dense layers after it.

    Feature ``x_i`` becomes ``ReLU(W_i [cos(2 pi c_i x_i), sin(2 pi c_i x_i)] + b_i)``,
    with ``frequencies`` trainable coefficients ``c_i`` drawn from N(0, ``sigma``) and a
    ``size``-wide linear map per feature. An MLP then sees curves of each feature it
    can combine, which a plain Dense layer on the raw value learns slowly.

    Args:
        size: units of each feature's embedding.
        frequencies: periodic coefficients per feature.
        sigma: their initial scale (on normalized features: about 0.01-1).
    """

    def __init__(self, size: int = 16, frequencies: int = 16, sigma: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.size, self.frequencies, self.sigma = int(size), int(frequencies), float(sigma)

    def build(self, input_shape):
        n = int(input_shape[-1])
        self.coefficients = self.add_weight(
            name="coefficients", shape=(n, self.frequencies),
            initializer=keras.initializers.RandomNormal(stddev=self.sigma))
        self.kernel = self.add_weight(name="kernel", shape=(n, 2 * self.frequencies, self.size),
                                      initializer="glorot_uniform")
        self.bias = self.add_weight(name="bias", shape=(n, self.size), initializer="zeros")

    def call(self, x):
        ops = keras.ops
        v = 2 * 3.141592653589793 * x[..., None] * self.coefficients  # (batch, n, k)
        periodic = ops.concatenate([ops.cos(v), ops.sin(v)], axis=-1)  # (batch, n, 2k)
        out = ops.relu(ops.einsum("bnk,nkd->bnd", periodic, self.kernel) + self.bias)
        return ops.reshape(out, (-1, out.shape[1] * self.size))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(input_shape[-1]) * self.size)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "frequencies": self.frequencies,
                "sigma": self.sigma}


@keras.saving.register_keras_serializable(package="mlpkit")
class RotatedCoordinates(keras.layers.Layer):
    """Appends rotated views of two coordinate columns (latitude and longitude, or any
    plane whose two axes share a unit) to a feature matrix: for each angle ``a``,
    ``x cos a - y sin a`` of the columns ``y`` (first) and ``x`` (second).

    An MLP sees each input column on its own axis; a price that changes across a coast
    running north-west, say, changes along a diagonal, which it learns slowly (with
    periodic embeddings, which embed each input on its own, as a product of two).
    Rotated coordinates, a known feature for geographic data, put such directions on
    inputs of their own. The other columns pass through unchanged, in front.

    Args:
        columns: indices of the two coordinate columns (y, x).
        angles: rotation angles, in degrees.

    Computes in float32 whatever the dtype policy (the normalization after it is
    adapted on its output).
    """

    def __init__(self, columns: list[int], angles: list[float], **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.columns = [int(c) for c in columns]
        self.angles = [float(a) for a in angles]
        if len(self.columns) != 2 or self.columns[0] == self.columns[1]:
            raise ValueError(f"columns must be two different column indices. Received: "
                             f"columns={columns}")

    @staticmethod
    def angles_for(rotations: int) -> list[float]:
        """``rotations`` directions spread over the half turn with the two axes: steps of
        ``180 / (rotations + 2)`` degrees, 90 (the first axis again) left out; 10
        rotations: every 15 degrees but 0 and 90. An odd count cannot be symmetric: it
        leaves out the last step (5: 25.7 ... 128.6, not 154.3)."""
        step = 180.0 / (int(rotations) + 2)
        steps = [round(k * step, 6) for k in range(1, int(rotations) + 2)]
        return [a for a in steps if a != 90.0][:int(rotations)]

    def call(self, x):
        import math

        ops = keras.ops
        y, x_ = x[..., self.columns[0]], x[..., self.columns[1]]
        views = [x_ * math.cos(math.radians(a)) - y * math.sin(math.radians(a))
                 for a in self.angles]
        return ops.concatenate([x, ops.stack(views, axis=-1)], axis=-1)

    def compute_output_shape(self, input_shape):
        width = input_shape[-1]
        return (*input_shape[:-1], None if width is None else int(width) + len(self.angles))

    def get_config(self):
        return {**super().get_config(), "columns": self.columns, "angles": self.angles}


@keras.saving.register_keras_serializable(package="mlpkit")
class RandomShift(keras.layers.Layer):
    """Shifts each image of a batch by a random whole number of pixels, in training only
    (augmentation; at inference, and when called without ``training``, images pass
    unchanged).

    Each image moves by ``dy``, ``dx`` drawn uniformly from ``-max_shift..max_shift``,
    and the pixels moved in are 0. Keras's ``RandomTranslation`` with
    ``fill_mode="constant"`` and ``interpolation="nearest"`` is similar, but draws
    fractional shifts and resamples the image through an affine transform; on 2 CPU
    cores it made a 2 x 1024 MLP's training step about 30% slower, where these shifts,
    two gathers, cost little. They are exact on every device (no float products).

    Args:
        max_shift: the largest shift, in pixels, along each axis (>= 0).
        seed: seed of the layer's random draws.

    Inputs are ``(batch, height, width, channels)``.
    """

    def __init__(self, max_shift: int = 1, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if int(max_shift) < 0:
            raise ValueError(f"max_shift must be >= 0. Received: max_shift={max_shift}")
        self.max_shift, self.seed = int(max_shift), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._build_at_init()

    def call(self, x, training=False):
        if not training or not self.max_shift:
            return x
        ops, k = keras.ops, self.max_shift
        n, h, w = ops.shape(x)[0], x.shape[1], x.shape[2]
        padded = ops.pad(x, [(0, 0), (k, k), (k, k), (0, 0)])
        dy = keras.random.randint((n, 1, 1, 1), 0, 2 * k + 1, seed=self.seed_generator)
        dx = keras.random.randint((n, 1, 1, 1), 0, 2 * k + 1, seed=self.seed_generator)
        # out[b, i, j] = padded[b, i + dy_b, j + dx_b]: rows picked, then columns
        rows = ops.take_along_axis(padded, ops.reshape(ops.arange(h), (1, h, 1, 1)) + dy, axis=1)
        return ops.take_along_axis(rows, ops.reshape(ops.arange(w), (1, 1, w, 1)) + dx, axis=2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift, "seed": self.seed}


@keras.saving.register_keras_serializable(package="mlpkit")
class RandomFlip(keras.layers.RandomFlip):
    """Keras's ``RandomFlip`` on channels-last images, flipping in training only. Keras's
    own defaults to ``training=True`` when a model is called without it, so ``model(x)``
    on a loaded model would flip at random; here it does not."""

    def __init__(self, mode: str = "horizontal", **kwargs):
        kwargs.setdefault("data_format", "channels_last")  # whatever keras.config says
        super().__init__(mode=mode, **kwargs)

    def call(self, data, training=False):
        return super().call(data, training=bool(training))


@keras.saving.register_keras_serializable(package="mlpkit")
class MemberMean(keras.layers.Layer):
    """The output of an ensemble: the mean of its members' outputs (probabilities for a
    classifier, values for a regressor), as a deep ensemble predicts. Training through
    it fits the mean (the members as one wide network); mlpkit's jitted loop instead
    trains each member on its own loss, through ``member_outputs`` (see ``jax_loop``).
    """

    def call(self, inputs):
        return keras.ops.mean(keras.ops.stack(inputs, axis=1), axis=1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


def ensemble_mean(model: keras.Model) -> MemberMean | None:
    """The ``MemberMean`` a model built by ``models.build_mlp(members=k)`` ends with."""
    last = model.layers[-1] if model.layers else None
    return last if isinstance(last, MemberMean) else None


def members(model: keras.Model) -> int:
    """How many members an ensemble built by ``models.build_mlp`` averages (1: not one)."""
    mean = ensemble_mean(model)
    return len(mean.input) if mean is not None else 1


def member_outputs(model: keras.Model) -> keras.Model:
    """A model of the same layers and variables whose output is the list of an
    ensemble's member outputs (the inputs of its ``MemberMean``)."""
    return keras.Model(model.input, ensemble_mean(model).input)
