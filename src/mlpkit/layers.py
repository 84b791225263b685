"""mlpkit's one Keras layer, registered so that safe-mode loading accepts it."""

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
