"""Errors mlpkit raises on purpose.

Each carries a message that says what was wrong and how to fix it, on one line.
The CLI prints it and exits with status 2; the library lets it propagate.
"""


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


def did_you_mean(key: str, options) -> str:
    """" Did you mean 'epochs'?" when ``key`` is close to one of ``options``, else ""."""
    import difflib

    close = difflib.get_close_matches(str(key), [str(o) for o in options], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""
