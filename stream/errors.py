"""Errors of the stream layer; each one's message is a single line for the user.

Exit codes (``nocturne`` returns them): 2 usage/config/option, 3 unreadable
input, 4 input damaged (partial output written), 5 output not writable,
130/143 interrupted by SIGINT/SIGTERM.
"""

from __future__ import annotations

from engines.errors import (  # noqa: F401  (re-exported)
    BackendUnavailableError,
    ModelNotAvailableError,
    NocturneError,
    WeightsChecksumError,
)


class UsageError(NocturneError, ValueError):
    """A bad option value or config file."""

    exit_code = 2


class InputNotFoundError(NocturneError, FileNotFoundError):
    exit_code = 3


class NoVideoStreamError(NocturneError, ValueError):
    exit_code = 3


class DecodeError(NocturneError, ValueError):
    """The input cannot be opened or read as media."""

    exit_code = 3


class InputDamagedError(NocturneError, ValueError):
    """The input was truncated or corrupt part-way; what decoded was written."""

    exit_code = 4


class OutputError(NocturneError, OSError):
    """The output cannot be created or written."""

    exit_code = 5


class InterruptedRun(NocturneError):
    """SIGINT/SIGTERM stopped the run; the output holds the frames done.

    Exit code 128 + signal number, as shells report it: 130 for SIGINT, 143 for SIGTERM.
    """

    exit_code = 130

    def __init__(self, message: str, signal_number: int | None = None) -> None:
        super().__init__(message)
        if signal_number is not None:
            self.exit_code = 128 + signal_number


class CameraFailedError(NocturneError, ConnectionError):
    """A live camera could not be reached (or stopped delivering) and was given up; the others ran on."""

    exit_code = 3


class SourceError(NocturneError, ConnectionError):
    """A live camera could not be opened or stopped delivering; ``str`` is redacted and one line.

    Raised by the live readers (``stream.live.reader.Reader``); the reconnecting
    source (``stream.live.reconnect``) retries after it.
    """

    exit_code = 3


class SourceGaveUp(SourceError):
    """No frame for ``reconnect.give_up_after_s``: the camera is abandoned."""


class GStreamerMissingError(NocturneError, RuntimeError):
    """GStreamer or PyGObject is not installed; the message says what to install."""

    exit_code = 2
