"""Exception hierarchy.

Every error msetool raises on purpose derives from :class:`MseToolError`, so the CLI can turn it into one
line and a documented exit code. Any other exception escaping the library is a bug.
"""

from __future__ import annotations


class MseToolError(Exception):
    """Base class: a problem msetool understood and can describe to the user."""

    exit_code = 2


class UsageError(MseToolError):
    """Bad arguments, a missing file, an unreadable scenario."""


class ParseError(MseToolError):
    """Bytes that do not follow the format, located by file, byte offset and box/element path.

    Parsers raise it internally; checkers turn it into a finding, so it rarely reaches the user.
    """

    def __init__(self, reason: str, offset: int = 0, path: str = "", file: str = "") -> None:
        self.reason = reason
        self.offset = offset
        self.path = path
        self.file = file
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.file or "<bytes>"
        box = f" {self.path}:" if self.path else ""
        return f"{where}@{self.offset}:{box} {self.reason}"


class FfmpegError(MseToolError):
    """ffmpeg failed or is missing; carries the command and the useful tail of its stderr."""

    exit_code = 2

    def __init__(self, message: str, argv: list[str] | None = None, stderr_tail: str = "") -> None:
        self.argv = argv or []
        self.stderr_tail = stderr_tail
        super().__init__(message)


class BrowserError(MseToolError):
    """Headless Chromium is missing or could not be driven."""

    exit_code = 2
