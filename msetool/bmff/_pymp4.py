"""The one place msetool touches pymp4 (and construct): an independent second decoder for boxes.

msetool's own decoders (:mod:`msetool.bmff.boxes`) are what the reader uses; docs/decisions/0001-pymp4.md
records why (pymp4 is 13x slower on moov and 80x slower on moof, and has no decoder for elst, hvcC, av1C,
vpcC, dOps, dfLa, dac3/dec3, emsg, prft, sbgp/sgpd). pymp4 serves as a cross-check: ``inspect --pymp4``
shows its view of a box next to ours, and the tests compare both decoders field by field on real media.

construct 2.8.8 (the version pymp4 1.4 pins) raises errors without any position, so :func:`decode`
relocates a failure itself: it retries the failing box's children one by one (walking headers with
msetool's reader) and reports the deepest child pymp4 cannot parse, with its absolute offset and box path.
Inside containers pymp4 does not raise at all (GreedyRange stops at the first bad child and drops the
rest), so :func:`decode` also compares pymp4's children with a header walk and reports the first box it
dropped.
"""

from __future__ import annotations

from typing import Any

from msetool.bmff.reader import read_header
from msetool.bmff.tree import segment
from msetool.errors import ParseError

_CONTAINERS = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"dinf",
                         b"edts", b"sinf", b"schi", b"mfra", b"udta"})


#: Containers whose children pymp4 is expected to decode completely (udta holds iTunes metadata pymp4 does
#: not model, so its meta child is always dropped there).
_CHECKED = _CONTAINERS - {b"udta"}


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
        parsed = _plain(_parse(data))
    except _Failed as e:
        off, where, reason = _locate(data, base, path, str(e))
        raise ParseError(f"pymp4: {reason}", off, where) from None
    _check_complete(parsed, data, 0, base, path)
    return dict(parsed)


def _check_complete(node: Any, data: bytes, pos: int, base: int, path: str) -> None:
    """pymp4 containers parse children with GreedyRange, which stops silently at the first child that
    fails: compare with a header walk and report the first child pymp4 dropped."""
    hdr = read_header(data, pos, len(data))
    if hdr is None or hdr.type.encode("latin-1") not in _CHECKED or not isinstance(node, dict):
        return
    kids = node.get("children") or []
    end = min(len(data), pos + (hdr.size or len(data) - pos))
    cpos = pos + hdr.header_size
    counts: dict[str, int] = {}
    i = 0
    while cpos + 8 <= end:
        h = read_header(data, cpos, end)
        if h is None:
            return
        idx = counts.get(h.type, 0)
        counts[h.type] = idx + 1
        child_path = f"{path}/{segment(h.type, idx)}" if path else segment(h.type, idx)
        if i >= len(kids):
            raise ParseError(f"pymp4: stopped before '{h.type}' and dropped the rest of the container "
                             "without an error", base + cpos, child_path)
        _check_complete(kids[i], data, cpos, base, child_path)
        i += 1
        if h.size < h.header_size:
            return
        cpos += h.size


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
