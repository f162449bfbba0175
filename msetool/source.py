"""Random-access byte sources.

Readers take a :class:`ByteSource` instead of a file so the core never opens files itself and reads only
the byte ranges it needs: box headers are read, ``mdat`` payloads are seeked past. Memory stays constant
whatever the file size.
"""

from __future__ import annotations

import contextlib
import os
from typing import Protocol


class ByteSource(Protocol):
    """A named, sized, random-access sequence of bytes."""

    name: str

    @property
    def size(self) -> int: ...

    def read_at(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset``; fewer only at the end of the source."""
        ...


class BytesSource:
    """Bytes held in memory (tests, appends in the simulator)."""

    def __init__(self, data: bytes, name: str = "<bytes>") -> None:
        self._data = memoryview(data)
        self.name = name

    @property
    def size(self) -> int:
        return len(self._data)

    def read_at(self, offset: int, length: int) -> bytes:
        return bytes(self._data[offset : offset + length])


class FileSource:
    """A file read with ``pread``; the only place the core touches a file descriptor."""

    def __init__(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        self._fd = -1  # set first: __del__ runs even when os.open raises
        self.path = os.fspath(path)
        self.name = name if name is not None else self.path
        self._fd = os.open(self.path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size

    @property
    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self._size:
            return b""
        return os.pread(self._fd, min(length, self._size - offset), offset)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()


class PrefixSource:
    """A file whose size and first bytes the caller holds already (it read the whole file a moment ago):
    reads inside those bytes cost no system call, anything else opens the file (once, on first need) and
    reads it as :class:`FileSource` would, never past ``size``.

    Why: ``fragment``'s self-check validates files the simulator has just read. The validate engine reads
    only their heads (box headers and moofs, a few hundred bytes); opening, sizing and reading 1,200 small
    files cost ~7 us each in system calls, more than the rest of their validation.
    """

    def __init__(
        self, path: str | os.PathLike[str], size: int, prefix: bytes, name: str | None = None
    ) -> None:
        self.path = os.fspath(path)
        self.name = name if name is not None else self.path
        self._size = size
        self._prefix = prefix[:size]
        self._file: FileSource | None = None

    @property
    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self._size:
            return b""
        length = min(length, self._size - offset)
        if offset >= 0 and offset + length <= len(self._prefix):
            return self._prefix[offset : offset + length]
        if self._file is None:
            self._file = FileSource(self.path, name=self.name)
        return self._file.read_at(offset, length)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> PrefixSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
