"""Walking box headers: from a ByteSource (files of any size) or from bytes already in memory.

Top-level boxes are read one at a time through :meth:`ByteSource.read_at`: the header first, then the
payload only when the box type has a decoder (``moov``, ``moof``, ``sidx``, ...). ``mdat`` payloads and
unknown boxes are seeked past, so memory is bounded by the largest decoded box, never by the file.

Structural problems become :class:`~msetool.bmff.tree.BoxIssue` records; the walk itself never raises.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from msetool.binary import Reader
from msetool.bmff.boxes import CHILDREN, DECODERS, FAST_DECODERS
from msetool.bmff.tree import INDEXED, Box, BoxIssue, BoxTree
from msetool.errors import ParseError
from msetool.source import ByteSource

#: Deepest nesting read (moov/trak/mdia/minf/stbl/stsd/encv/sinf/schi/tenc is 10); deeper boxes are opaque.
DEFAULT_MAX_DEPTH = 24
#: Largest top-level box decoded in memory (a moov with full sample tables of a long film is a few MB).
DEFAULT_MAX_DECODE = 256 * 1024 * 1024
#: Box types never read (their payload is media data).
SKIP_PAYLOAD = frozenset({"mdat", "free", "skip", "wide"})

_HDR = struct.Struct(">I4s")
_U64 = struct.Struct(">Q")


class Header:
    """A parsed box header. ``size`` is 0 when the header says "to the end" (``to_end``)."""

    __slots__ = ("header_size", "large", "size", "to_end", "type", "usertype")

    def __init__(self, box_type: str, size: int, header_size: int, *, usertype: bytes | None,
                 large: bool, to_end: bool) -> None:
        self.type = box_type
        self.size = size
        self.header_size = header_size
        self.usertype = usertype
        self.large = large
        self.to_end = to_end


def read_header(data: bytes | bytearray | memoryview, pos: int, end: int) -> Header | None:
    """The box header at ``data[pos:]``, or None when ``end - pos`` bytes do not hold all of it yet."""
    if end - pos < 8:
        return None
    size, raw = _HDR.unpack_from(data, pos)
    box_type = bytes(raw).decode("latin-1")
    hsize = 8
    large = False
    if size == 1:
        if end - pos < 16:
            return None
        size = _U64.unpack_from(data, pos + 8)[0]
        hsize = 16
        large = True
    usertype = None
    if box_type == "uuid":
        if end - pos < hsize + 16:
            return None
        usertype = bytes(data[pos + hsize : pos + hsize + 16])
        hsize += 16
    return Header(box_type, size, hsize, usertype=usertype, large=large, to_end=size == 0)


def printable_type(box_type: str) -> bool:
    """Real box types are four printable ASCII characters (``©nam`` style types appear only in udta)."""
    known = _PRINTABLE.get(box_type)
    if known is None:
        known = all(0x20 <= ord(c) < 0x7F or ord(c) == 0xA9 for c in box_type)
        if len(_PRINTABLE) < 4096:  # bounded: garbage bytes make up new "types" without end
            _PRINTABLE[box_type] = known
    return known


_PRINTABLE: dict[str, bool] = {}


def parse_boxes(
    data: bytes | bytearray | memoryview,
    start: int,
    end: int,
    *,
    base: int = 0,
    parent_path: str = "",
    declared_end: int | None = None,
    issues: list[BoxIssue],
    depth: int = 0,
    max_depth: int = DEFAULT_MAX_DEPTH,
    decode: bool = True,
) -> list[Box]:
    """Boxes in ``data[start:end]`` (absolute offset of ``data[0]`` is ``base``), decoded recursively.

    ``declared_end`` is where the enclosing box says it ends (defaults to ``end``); a child past it
    overruns its parent, a child past ``end`` only is truncated (the data stops early).
    """
    return _parse(data, start, end, base, parent_path, end if declared_end is None else declared_end,
                  issues, depth, max_depth, decode)


def _parse(data: bytes | bytearray | memoryview, start: int, end: int, base: int, parent_path: str,  # noqa: PLR0917
           dend: int, issues: list[BoxIssue], depth: int, max_depth: int, decode: bool) -> list[Box]:
    """:func:`parse_boxes` with positional arguments: the loop every moof and moov goes through, so the
    common header (32-bit size, printable type, not uuid) is read inline and everything else takes the
    general :func:`read_header` path."""
    out: list[Box] = []
    counts: dict[str, int] = {}
    pos = start
    prefix = parent_path + "/" if parent_path else ""
    unpack = _HDR.unpack_from
    while pos < end:
        if end - pos >= 8:
            size, raw = unpack(data, pos)
            box_type = raw.decode("latin-1")
            hsize = 8
            plain = size > 1 and box_type != "uuid"
        else:
            plain = False
        if plain:
            usertype = None
            large = to_end = False
        else:
            hdr = read_header(data, pos, end)
            if hdr is None:
                if end >= dend:
                    where = parent_path or "top level"
                    issues.append(BoxIssue("garbage", base + pos, parent_path,
                                           f"{end - pos} bytes at the end of {where} are too few for a box"))
                break
            box_type, size, hsize = hdr.type, hdr.size, hdr.header_size
            usertype, large, to_end = hdr.usertype, hdr.large, hdr.to_end
        idx = counts.get(box_type, 0)
        counts[box_type] = idx + 1
        path = prefix + (f"{box_type}[{idx}]" if idx or box_type in INDEXED else box_type)
        if to_end:
            size = dend - pos
            issues.append(BoxIssue("to-end", base + pos, path, "size 0: box extends to the end of "
                                   + (parent_path or "the data")))
        if size < hsize:
            issues.append(BoxIssue("size-too-small", base + pos, path,
                                   f"size {size} is smaller than its {hsize}-byte header"))
            break
        if depth == 0 and not printable_type(box_type):
            issues.append(BoxIssue("garbage", base + pos, parent_path,
                                   f"bytes {bytes(data[pos:pos + 8]).hex()} do not start a box (type is "
                                   "not printable)"))
            break
        if plain:  # keyword arguments at their defaults cost as much as the rest of the call
            box = Box(box_type, base + pos, size, hsize, path)
        else:
            box = Box(box_type, base + pos, size, hsize, path, usertype=usertype, to_end=to_end, large=large)
        box_end = pos + size
        if box_end > dend:
            issues.append(BoxIssue("overruns-parent", base + pos, path,
                                   f"box of {size} bytes ends {box_end - dend} bytes past the end of "
                                   f"{parent_path}"))
            box.truncated = True
        elif box_end > end:
            # The data stops inside this box. When an ancestor was cut short, it already said so.
            if end >= dend:
                issues.append(BoxIssue("truncated", base + pos, path,
                                       f"box of {size} bytes has only {end - pos} bytes"))
            box.truncated = True
        if decode:
            fast = FAST_DECODERS.get(box_type)
            if fast is not None and fast(data, pos + hsize, box_end if box_end < end else end, box.fields):
                box.decoded = True
            elif box_type in DECODERS or box_type in CHILDREN:
                _decode(box, data, pos, box_end if box_end < end else end, base, issues, depth, max_depth,
                        box_end)
        out.append(box)
        if box.truncated:
            break
        pos = box_end
    return out


def decode_payload(
    box: Box,
    data: bytes | bytearray | memoryview,
    pos: int,
    end: int,
    *,
    base: int,
    issues: list[BoxIssue],
    depth: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    declared_end: int | None = None,
) -> None:
    """Decode ``box`` (its bytes are ``data[pos:end]``) and its children in place."""
    fast = FAST_DECODERS.get(box.type)
    if fast is not None and fast(data, pos + box.header_size, end, box.fields):
        box.decoded = True
    elif box.type in DECODERS or box.type in CHILDREN:
        _decode(box, data, pos, end, base, issues, depth, max_depth,
                declared_end if declared_end is not None else end)


def _decode(box: Box, data: bytes | bytearray | memoryview, pos: int, end: int, base: int,  # noqa: PLR0917
            issues: list[BoxIssue], depth: int, max_depth: int, dend: int) -> None:
    """:func:`decode_payload` for a box whose type has a decoder or children, once its fast decoder (if
    any, see :data:`~msetool.bmff.boxes.FAST_DECODERS`: leaf boxes only) declined."""
    t = box.type
    child_pos = pos + box.header_size
    if t == "moof" and end == dend and depth + 2 < max_depth:
        kids = _plain_moof(data, child_pos, end, base, box.path)
        if kids is not None:
            box.children = kids
            return
    dec = DECODERS.get(t)
    if dec is not None:
        r = Reader(data, child_pos, end, base=base, path=box.path)
        try:
            dec(r, box)
            box.decoded = True
        except ParseError as e:
            issues.append(BoxIssue("invalid-field", e.offset, box.path, e.reason))
            return
        child_pos = r.pos
    if t in CHILDREN:
        if depth + 1 >= max_depth:
            issues.append(BoxIssue("too-deep", box.payload_offset, box.path,
                                   f"nesting deeper than {max_depth} levels; children not read"))
            return
        box.children = _parse(data, child_pos, end, base, box.path, dend, issues, depth + 1, max_depth, True)


def _plain_moof(data: bytes | bytearray | memoryview, pos: int, end: int, base: int,
                parent: str) -> list[Box] | None:
    """The children of a moof (payload ``data[pos:end]``) built directly when it holds one mfhd and trafs of
    one tfhd, one tfdt and truns, each box filling its parent exactly and every field decoding: the tree
    :func:`_parse` builds, without issues, in about a fifth less time (every fragment of a stream is read this
    way). None for any other moof, which then takes the general walk."""
    out: list[Box] = []
    mfhd = FAST_DECODERS["mfhd"]
    unpack = _HDR.unpack_from
    ntraf = 0
    seen_mfhd = False
    while pos < end:
        if end - pos < 8:
            return None
        size, raw = unpack(data, pos)
        box_end = pos + size
        if size < 8 or box_end > end:
            return None
        if raw == b"traf":
            path = f"{parent}/traf[{ntraf}]"
            box = Box("traf", base + pos, size, 8, path)
            kids = _plain_traf(data, pos + 8, box_end, base, path)
            if kids is None:
                return None
            box.children = kids
            ntraf += 1
        elif raw == b"mfhd" and not seen_mfhd:
            box = Box("mfhd", base + pos, size, 8, parent + "/mfhd")
            if not mfhd(data, pos + 8, box_end, box.fields):
                return None
            box.decoded = seen_mfhd = True
        else:
            return None
        out.append(box)
        pos = box_end
    return out


#: the boxes :func:`_plain_traf` takes, with their decoders
_PLAIN_TRAF = {b"tfhd": ("tfhd", FAST_DECODERS["tfhd"]), b"tfdt": ("tfdt", FAST_DECODERS["tfdt"]),
               b"trun": ("trun", FAST_DECODERS["trun"])}


def _plain_traf(data: bytes | bytearray | memoryview, pos: int, end: int, base: int,
                parent: str) -> list[Box] | None:
    """:func:`_plain_moof` for the children of one traf."""
    out: list[Box] = []
    unpack = _HDR.unpack_from
    ntrun = 0
    seen = 0  # tfhd: 1, tfdt: 2
    while pos < end:
        if end - pos < 8:
            return None
        size, raw = unpack(data, pos)
        box_end = pos + size
        if size < 8 or box_end > end:
            return None
        kind = _PLAIN_TRAF.get(raw)
        if kind is None:
            return None
        name, fast = kind
        if name == "trun":
            box = Box(name, base + pos, size, 8, f"{parent}/trun[{ntrun}]")
            ntrun += 1
        else:
            bit = 1 if name == "tfhd" else 2
            if seen & bit:
                return None
            seen |= bit
            box = Box(name, base + pos, size, 8, f"{parent}/{name}")
        if not fast(data, pos + 8, box_end, box.fields):
            return None
        box.decoded = True
        out.append(box)
        pos = box_end
    return out if seen == 3 else None


def iter_boxes(
    source: ByteSource,
    start: int = 0,
    end: int | None = None,
    *,
    issues: list[BoxIssue],
    max_depth: int = DEFAULT_MAX_DEPTH,
    decode: bool = True,
    max_decode: int = DEFAULT_MAX_DECODE,
    counts: dict[str, int] | None = None,
    take: Callable[[Box, bytes], bool] | None = None,
) -> Iterator[Box]:
    """Top-level boxes of ``source[start:end]``, one at a time, each with its decoded subtree.

    Constant memory: only one top-level box's bytes are held at a time, and never an ``mdat``'s.
    Problems are appended to ``issues``; after a problem that makes the rest unreadable (garbage, a
    size smaller than the header, a truncated box) the walk stops.

    ``take(box, data)`` is offered each box about to be decoded, with its bytes; when it returns True the
    caller has what it needs from the bytes and the box is yielded undecoded (no fields, no children).
    It can always decode later with :func:`decode_payload` (``base=box.offset``, ``declared_end=box.size``).
    """
    total = source.size if end is None else min(end, source.size)
    counts = {} if counts is None else counts
    pos = start
    unpack = _HDR.unpack_from
    while pos < total:
        head = source.read_at(pos, 32)
        if len(head) >= 8:
            size, raw = unpack(head, 0)
            box_type = raw.decode("latin-1")
            plain = size >= 8 and box_type != "uuid"  # the common header, read inline
        else:
            plain = False
        if plain:
            hsize = 8
            usertype = None
            large = to_end = False
        else:
            hdr = read_header(head, 0, len(head))
            if hdr is None:
                issues.append(BoxIssue("garbage" if total - pos < 8 else "truncated", pos, "",
                                       f"{total - pos} bytes at offset {pos} are too few for a box header"))
                return
            box_type, size, hsize = hdr.type, hdr.size, hdr.header_size
            usertype, large, to_end = hdr.usertype, hdr.large, hdr.to_end
        idx = counts.get(box_type, 0)
        counts[box_type] = idx + 1
        path = f"{box_type}[{idx}]" if idx or box_type in INDEXED else box_type
        if to_end:
            size = total - pos
            issues.append(BoxIssue("to-end", pos, path, "size 0: box extends to the end of the data"))
        if size < hsize:
            issues.append(BoxIssue("size-too-small", pos, path,
                                   f"size {size} is smaller than its {hsize}-byte header"))
            return
        if not printable_type(box_type):
            issues.append(BoxIssue("garbage", pos, "",
                                   f"bytes {head[:8].hex()} do not start a box (type is not printable)"))
            return
        if plain:
            box = Box(box_type, pos, size, 8, path)
        else:
            box = Box(box_type, pos, size, hsize, path, usertype=usertype, to_end=to_end, large=large)
        avail = min(size, total - pos)
        if avail < size:
            box.truncated = True
            issues.append(BoxIssue("truncated", pos, path, f"box of {size} bytes has only {avail} bytes"))
        if decode and box_type not in SKIP_PAYLOAD and (box_type in DECODERS or box_type in CHILDREN):
            if avail > max_decode:
                issues.append(BoxIssue("too-large", pos, path,
                                       f"{avail} bytes is more than the {max_decode} decoded in memory"))
            else:
                data = source.read_at(pos, avail)
                if take is None or not take(box, data):
                    decode_payload(box, data, 0, len(data), base=pos, issues=issues, depth=0,
                                   max_depth=max_depth, declared_end=size)
        yield box
        if box.truncated:
            return
        pos += size


def read_boxes(
    source: ByteSource,
    start: int = 0,
    end: int | None = None,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    decode: bool = True,
) -> BoxTree:
    """The whole tree of ``source`` (convenient for init segments and small files; for large files
    prefer :func:`iter_boxes`, which holds one top-level box at a time)."""
    tree = BoxTree(source.name, source.size)
    tree.boxes = list(iter_boxes(source, start, end, issues=tree.issues, max_depth=max_depth, decode=decode))
    return tree


def parse_bytes(data: bytes, *, base: int = 0, issues: list[BoxIssue] | None = None,
                max_depth: int = DEFAULT_MAX_DEPTH) -> list[Box]:
    """Boxes of an in-memory buffer (tests, the stream parser's completed boxes)."""
    return parse_boxes(data, 0, len(data), base=base, issues=[] if issues is None else issues,
                       max_depth=max_depth)
