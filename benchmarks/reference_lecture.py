"""The lecture's Fashion-MNIST code as a user writes it: tf.keras on TensorFlow.

Run with KERAS_BACKEND=tensorflow (benchmarks set it). Prints one JSON line with
each epoch's seconds (including its validation pass) and the test accuracy.

    python benchmarks/reference_lecture.py [EPOCHS]
"""

import json
import sys
import time

import tensorflow as tf

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 30


class EpochTimer(tf.keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


fashion_mnist = tf.keras.datasets.fashion_mnist.load_data()
(X_train_full, y_train_full), (X_test, y_test) = fashion_mnist
X_train, y_train = X_train_full[:-5000], y_train_full[:-5000]
X_valid, y_valid = X_train_full[-5000:], y_train_full[-5000:]
X_train, X_valid, X_test = X_train / 255., X_valid / 255., X_test / 255.

tf.random.set_seed(42)
model = tf.keras.Sequential([
    tf.keras.layers.Input(shape=[28, 28]),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(300, activation="relu"),
    tf.keras.layers.Dense(100, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(loss="sparse_categorical_crossentropy",
              optimizer=tf.keras.optimizers.SGD(learning_rate=0.01),
              metrics=["accuracy"])
timer = EpochTimer()
t0 = time.perf_counter()
history = model.fit(X_train, y_train, epochs=EPOCHS, validation_data=(X_valid, y_valid),
                    callbacks=[timer], verbose=0)
fit_seconds = time.perf_counter() - t0
test_loss, test_accuracy = model.evaluate(X_test, y_test, verbose=0)
print(json.dumps({"epoch_seconds": timer.seconds, "fit_seconds": fit_seconds,
                  "test_accuracy": test_accuracy, "backend": tf.keras.backend.backend(),
                  "tensorflow": tf.__version__}))
