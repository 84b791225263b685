"""Errors mlpkit raises on purpose.

Each carries a message that says what was wrong and how to fix it, on one line.
The CLI prints it and exits with status 2; the library lets it propagate.
"""

import contextlib


class MlpkitError(Exception):
    """Base class: a problem with the user's input, data or environment."""

    exit_code = 2


class ConfigError(MlpkitError, ValueError):
    """A setting is unknown, of the wrong type or out of range."""


class DataError(MlpkitError):
    """A data set is missing, corrupted or malformed."""


class ModelError(MlpkitError):
    """A model cannot be built, loaded or applied to the given input."""


class RunError(MlpkitError):
    """A run folder is missing, incomplete or cannot be written."""


class Diverged(MlpkitError):
    """The training loss stopped being a finite number (too high a learning rate)."""


class Interrupted(KeyboardInterrupt):
    """Training stopped by a signal (SIGINT: Ctrl-C, or SIGTERM) at a step boundary.

    A ``KeyboardInterrupt``, so code that stops on Ctrl-C stops on it too. The
    message says what was saved and the command that resumes; the command line
    prints it and exits with 128 + the signal's number (130, 143).
    """

    def __init__(self, signum: int = 2, message: str = ""):
        super().__init__(message)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def did_you_mean(key: str, options) -> str:
    """" Did you mean 'epochs'?" when ``key`` is close to one of ``options``, else ""."""
    import difflib

    close = difflib.get_close_matches(str(key), [str(o) for o in options], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


# Signals that asked the process to stop (SIGTERM through ``stop``). A handler's
# exception can be lost: Python drops it when the signal lands inside a garbage-collector
# or exit callback (as JAX registers), so the request is also kept here, and training
# checks it at its safe points (``check_stop``).
_STOP_REQUESTS: list[int] = []
_DEFERRED = [0]  # > 0: inside ``deferred_stop``


@contextlib.contextmanager
def stopping_on(*signums: int):
    """Within the block, these signals stop as Ctrl-C does (``stop``); afterwards the
    previous handlers are back and no request is left over (a command run in-process)."""
    import signal
    import sys

    previous = {s: signal.getsignal(s) for s in signums}
    hook = sys.unraisablehook
    _STOP_REQUESTS.clear()

    def unraisable(info):  # the lost exception is kept in _STOP_REQUESTS: no traceback
        if not isinstance(info.exc_value, Interrupted):
            hook(info)

    try:
        sys.unraisablehook = unraisable
        for s in signums:
            signal.signal(s, stop)
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        sys.unraisablehook = hook
        _STOP_REQUESTS.clear()


def stop(signum: int, frame=None) -> None:
    """A signal handler: stop as Ctrl-C does (``Interrupted``), and remember it; inside
    ``deferred_stop`` only remember it."""
    _STOP_REQUESTS.append(signum)
    if not _DEFERRED[0]:
        raise Interrupted(signum)


@contextlib.contextmanager
def deferred_stop():
    """Code that an exception must not cut short (importing Keras and JAX, where one
    raised inside a native callback aborts the process): ``stop`` only records the
    signal, and it is raised once the block ends."""
    _DEFERRED[0] += 1
    try:
        yield
    finally:
        _DEFERRED[0] -= 1
    check_stop()


def check_stop() -> None:
    """Raise ``Interrupted`` if ``stop`` was called, even where its exception was lost."""
    if _STOP_REQUESTS:
        raise Interrupted(_STOP_REQUESTS[-1])
