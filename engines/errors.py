"""The error hierarchy. Every error nocturne raises on purpose is a ``NocturneError``.

Like PyAV, errors are also the matching builtin where one fits, so callers can
catch ``FileNotFoundError`` or ``ValueError`` without knowing nocturne.
They live in ``engines`` (the lower layer) so both packages can use them;
``stream.errors`` re-exports them beside the stream-specific ones.
"""

from __future__ import annotations


class NocturneError(Exception):
    """Base of all deliberate nocturne errors. ``str(e)`` is one line for the user."""

    exit_code = 1


class ModelNotAvailableError(NocturneError, LookupError):
    """A model that is not (yet) shipped, or whose weights are missing."""

    exit_code = 2


class WeightsChecksumError(NocturneError, ValueError):
    """Shipped weights do not match the checksum in the manifest."""


class BackendUnavailableError(NocturneError, RuntimeError):
    """A requested runtime/device cannot be used on this machine."""

    exit_code = 2
