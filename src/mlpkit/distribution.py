"""Training on several devices, on one host or many: Keras's ``DataParallel`` on JAX.

``--devices N|all`` splits every batch across N devices with Keras's own
distribution API (``keras.distribution.DataParallel``), not a scheme of mlpkit's:
the model's variables (and the optimizer's) are created under the distribution,
so Keras replicates them on every device; each batch is laid out along the batch
axis by the distribution's data layout; XLA then computes each device's share of
the batch where it lives and adds up the gradients across devices (an all-reduce)
before the optimizer's update, which every device applies to its copy.

The global batch size and the learning rate stay what the user chose: a batch of
32 on 2 devices is 16 rows a device and the same update as on one device (the same
weights up to the order of float additions). Nothing is rescaled behind the user's
back; the manifest records both, and the rows each device gets.

mlpkit's jitted loop keeps all the data on the devices (replicated: every device
holds the rows, small for an MLP's data) and gathers each batch on the device, so
the layout goes on the gathered batch inside the compiled step
(``constrain_batch``), where JAX turns it into a sharding constraint.

Many hosts: ``keras.distribution.initialize`` joins the processes (JAX's
coordinator: its address, the number of processes and this one's id, read from
``KERAS_DISTRIBUTION_JOB_ADDRESSES``, ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and
``KERAS_DISTRIBUTION_PROCESS_ID``; ``scripts/launch_hosts.sh`` sets them), after
which ``--devices all`` means every device of every process. Every process loads
the same data (mlpkit's splits are deterministic) and runs the same steps.

On CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=4`` (set before JAX
starts) makes 4 virtual devices out of one CPU: good for testing the arithmetic;
they share the same cores, so they speed nothing up.
"""

from __future__ import annotations

import contextlib
import os
import threading

from mlpkit.errors import ConfigError

ENVIRONMENT = ("KERAS_DISTRIBUTION_JOB_ADDRESSES", "KERAS_DISTRIBUTION_NUM_PROCESSES",
               "KERAS_DISTRIBUTION_PROCESS_ID")
_initialized = False
_scope = threading.local()  # how many ``use`` blocks this thread is in (as Keras's state)


def devices_value(value) -> int | str | None:
    """``devices`` as a config holds it: a whole number >= 1 or ``"all"`` (``None``:
    neither, which the config's check reports)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "all":
            return "all"
        if text.isdigit():
            return int(text)
    return None


def initialize_from_environment() -> bool:
    """Join the other processes of a multi-host run when the launcher said there are
    some (``KERAS_DISTRIBUTION_NUM_PROCESSES`` > 1): ``keras.distribution.initialize()``,
    which reads the coordinator's address, the count and this process's id from the
    environment. Must come before JAX's first computation; once a process.

    Returns:
        Whether this process is one of several.

    Raises:
        ConfigError: the environment names several processes but not all three values.
    """
    global _initialized
    count = os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES")
    if not count or int(count) <= 1:
        return False
    if _initialized:
        return True
    missing = [k for k in ENVIRONMENT if not os.environ.get(k)]
    if missing:
        raise ConfigError(f"a run over {count} processes needs {', '.join(missing)} too "
                          "(scripts/launch_hosts.sh sets all three). Received: "
                          f"KERAS_DISTRIBUTION_NUM_PROCESSES={count}")
    import keras

    keras.distribution.initialize()
    _initialized = True
    return True


def select(devices) -> list[str]:
    """The devices to train on, as Keras names them (``"cpu:0"``, ``"gpu:1"``, ...): the
    first ``devices`` of ``keras.distribution.list_devices()`` (every process's, in a
    multi-host run), or all of them.

    Raises:
        ConfigError: more devices than there are, or, over several processes, fewer than
            all of them (a process without a device in the run could not take part).
    """
    import keras

    available = keras.distribution.list_devices()
    if devices == "all":
        return available
    import jax

    if jax.process_count() > 1 and devices != len(available):
        raise ConfigError(f"a run over {jax.process_count()} processes trains on the devices "
                          f"of all of them: use devices = all (here {len(available)}). "
                          f"Received: devices={devices}")
    if devices > len(available):
        kind = available[0].split(":")[0] if available else "cpu"
        hint = (" On CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N (set before "
                "mlpkit starts) makes N virtual devices." if kind == "cpu" else "")
        raise ConfigError(f"devices must be at most the {len(available)} {kind} device"
                          f"{'s' if len(available) != 1 else ''} JAX sees, or all.{hint} "
                          f"Received: devices={devices}")
    return available[:devices]


def check_batch(batch_size: int, count: int) -> None:
    """Each device gets an equal share of every whole batch."""
    if count > 1 and batch_size % count:
        lower, higher = batch_size - batch_size % count, batch_size + count - batch_size % count
        raise ConfigError(f"batch_size must be a multiple of the {count} devices, so that each "
                          f"gets the same number of rows (e.g. {lower or count} or {higher}). "
                          f"Received: batch_size={batch_size}")


def check_keras_fit(batch_size: int, **rows: int) -> None:
    """Keras's own ``fit`` under ``DataParallel`` lays out every batch, the last one too,
    over the devices, and fails on one that does not split (mlpkit's loop computes such
    a batch whole on each device instead): refused before training, with the fix.

    Args:
        rows: the rows of each split fit goes through, e.g. ``training=55000``.
    """
    n = count()
    for split, size in rows.items():
        last = size % batch_size
        if n > 1 and last % n:
            raise ConfigError(
                f"Keras's fit on {n} devices needs the last batch of each split to split over "
                f"them too (the {split} rows, {size}, leave {last}); choose a batch_size that "
                f"leaves a multiple of {n} rows, or train on one device. "
                f"Received: batch_size={batch_size}")


@contextlib.contextmanager
def use(devices, batch_size: int):
    """Train on ``devices`` (a count or ``"all"``) within this block: a Keras
    ``DataParallel`` distribution over them, set before the model is built (its
    variables are then replicated) and restored to the previous one after. One
    device: no distribution at all, the single-device path unchanged.

    Yields:
        The Keras names of the devices used.
    """
    import keras

    initialize_from_environment()
    chosen = select(devices)
    check_batch(batch_size, len(chosen))
    previous = keras.distribution.distribution()
    if len(chosen) > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=chosen))
    _scope.depth = getattr(_scope, "depth", 0) + 1
    try:
        yield chosen
    finally:
        _scope.depth -= 1
        keras.distribution.set_distribution(previous)


def check_scope(devices) -> None:
    """A model for ``devices`` other than 1 is built inside ``use`` (which ``mlpkit.train``
    enters); elsewhere (a command that trains on one device) the setting is refused
    rather than ignored."""
    if devices != 1 and not getattr(_scope, "depth", 0):
        raise ConfigError("devices applies to mlpkit train (and mlpkit.train); this command "
                          "trains on one device: leave devices at 1. "
                          f"Received: devices={devices!r}")


def current():
    """The Keras distribution training runs under, or ``None`` (one device)."""
    import keras

    if keras.backend.backend() != "jax":
        return None
    return keras.distribution.distribution()


def count() -> int:
    """Devices each batch is split across (1: no distribution)."""
    d = current()
    return 1 if d is None else int(d.device_mesh.devices.size)


def place(array):
    """An array on the training devices: replicated over the distribution's mesh
    (every device holds all of it; ``keras.distribution.distribute_tensor``), or on
    the default device."""
    import jax.numpy as jnp
    import keras

    d = current()
    if d is None:
        return jnp.asarray(array)
    layout = keras.distribution.TensorLayout([None] * len(array.shape), d.device_mesh)
    return keras.distribution.distribute_tensor(array, layout)


def constrain_batch(x):
    """Inside a compiled step: lay the batch ``x`` out along its first axis over the
    devices, as the distribution's data layout says (a sharding constraint). A batch
    that does not split evenly (the last, smaller one) is left as it is: each device
    then computes all of it, with the same result."""
    d = current()
    if d is None or x.shape[0] % count():
        return x
    import keras

    return keras.distribution.distribute_tensor(x, d.get_data_layout(x.shape))


def describe(devices: list[str], batch_size: int, learning_rate: float) -> dict:
    """What the manifest records: devices, processes, the global batch size and
    learning rate (the user's, unchanged) and the rows each device computes."""
    import jax

    n = len(devices)
    return {"count": n, "names": devices, "processes": jax.process_count(),
            "process_id": jax.process_index(),
            "strategy": "keras.distribution.DataParallel" if n > 1 else "single device",
            "global_batch_size": batch_size, "per_device_batch_size": batch_size // n,
            "learning_rate": learning_rate}
