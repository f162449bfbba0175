"""The one place msetool touches pymp4 (and construct): an independent second decoder for boxes.

msetool's own decoders (:mod:`msetool.bmff.boxes`) are what the reader uses; docs/decisions/0001-pymp4.md
records why (pymp4 is 13x slower on moov and 80x slower on moof, and has no decoder for elst, hvcC, av1C,
vpcC, dOps, dfLa, dac3/dec3, emsg, prft, sbgp/sgpd). pymp4 serves as a cross-check: ``inspect --pymp4``
shows its view of a box next to ours, and the tests compare both decoders field by field on real media.

construct 2.8.8 (the version pymp4 1.4 pins) raises errors without any position, so :func:`decode`
relocates a failure itself: it retries the failing box's children one by one (walking headers with
msetool's reader) and reports the deepest child pymp4 cannot parse, with its absolute offset and box path.
"""

from __future__ import annotations

from typing import Any

from msetool.bmff.reader import read_header
from msetool.bmff.tree import segment
from msetool.errors import ParseError

_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"dinf",
                         b"edts", b"sinf", b"schi", b"mfra", b"udta"})


def available() -> bool:
    try:
        import pymp4.parser  # noqa: F401
    except ImportError:
        return False
    return True


def _plain(v: Any) -> Any:
    """construct Containers -> plain dicts/lists, bytes fourccs -> str, so callers need no construct types."""
    from construct import Container, ListContainer

    if isinstance(v, Container):
        return {str(k): _plain(x) for k, x in v.items() if not str(k).startswith("_")}
    if isinstance(v, ListContainer | list):
        return [_plain(x) for x in v]
    if isinstance(v, bytes) and len(v) == 4:
        return v.decode("latin-1")
    return v


def _parse(data: bytes) -> Any:
    from construct import ConstructError
    from pymp4.parser import Box

    try:
        return Box.parse(data)
    except (ConstructError, ValueError, KeyError, TypeError, IndexError, UnicodeDecodeError, OverflowError,
            AttributeError) as e:
        raise _Failed(f"{type(e).__name__}: {e}".strip()) from None


class _Failed(Exception):
    pass


def decode(data: bytes, *, base: int = 0, path: str = "") -> dict[str, Any]:
    """pymp4's decoding of the single box in ``data`` (absolute offset ``base``) as plain Python values.

    Raises :class:`~msetool.errors.ParseError` located at the deepest box pymp4 fails on.
    """
    if not available():
        raise ParseError("pymp4 is not installed", base, path)
    try:
        return dict(_plain(_parse(data)))
    except _Failed as e:
        off, where, reason = _locate(data, base, path, str(e))
        raise ParseError(f"pymp4: {reason}", off, where) from None


def _locate(data: bytes, base: int, path: str, reason: str) -> tuple[int, str, str]:
    """Descend into children while one of them alone fails too; return the deepest failing box."""
    hdr = read_header(data, 0, len(data))
    if hdr is None or hdr.type.encode("latin-1") not in _CONTAINERS:
        return base, path, reason
    pos = hdr.header_size
    counts: dict[str, int] = {}
    end = min(len(data), hdr.size or len(data))
    while pos + 8 <= end:
        h = read_header(data, pos, end)
        if h is None or h.size < h.header_size:
            return base + pos, path, reason
        idx = counts.get(h.type, 0)
        counts[h.type] = idx + 1
        child_path = f"{path}/{segment(h.type, idx)}" if path else segment(h.type, idx)
        child = data[pos : pos + (h.size or end - pos)]
        try:
            _parse(child)
        except _Failed as e:
            return _locate(child, base + pos, child_path, str(e))
        pos += h.size or end - pos
    return base, path, reason
