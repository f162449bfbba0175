"""The box tree: what the reader produces and every rule, model builder and the inspector consume.

See :mod:`msetool.bmff` for the API contract.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from msetool.records import FrozenRecord, Record

#: Box types that commonly repeat among siblings: their path segment always carries an index
#: (``moof[3]/traf[0]/trun[0]``). Other types get one only when a second box of the type appears.
INDEXED = frozenset(
    {"moof", "mdat", "styp", "sidx", "emsg", "prft", "free", "skip", "uuid", "trak", "traf", "trun",
     "trex", "pssh", "sgpd", "sbgp", "saiz", "saio", "ssix", "meta"}
)


def segment(box_type: str, index: int) -> str:
    """One path segment: ``trak[1]``, ``moov``, ``moov[1]`` (a second moov)."""
    if box_type in INDEXED or index > 0:
        return f"{box_type}[{index}]"
    return box_type


class Box(Record):
    """One box as found in the bytes.

    ``size`` is the size the header declares (the real one for size 0: to the end of the data), so
    ``offset + size`` may exceed what is available when the box is truncated (``truncated`` is then set).
    ``fields`` holds the decoded payload under ISO/IEC 14496-12 field names (``version``, ``flags``,
    ``track_ID``, ``base_media_decode_time``, ...); empty for opaque boxes (unknown types, mdat).
    """

    __slots__ = __match_args__ = (
        "type", "offset", "size", "header_size", "path", "children", "fields", "usertype", "to_end",
        "large", "truncated", "decoded",
    )  # fmt: skip
    __eq__ = object.__eq__  # identity, as ``eq=False``
    __hash__ = object.__hash__  # type: ignore[assignment]
    type: str
    offset: int
    size: int
    header_size: int
    path: str
    children: list[Box]
    fields: dict[str, Any]
    #: 16-byte extended type of ``uuid`` boxes
    usertype: bytes | None
    #: the header said size 0 ("extends to the end of the file")
    to_end: bool
    #: the header uses a 64-bit largesize
    large: bool
    #: fewer bytes were available than the header declares
    truncated: bool
    #: the payload was decoded by a known decoder (False: opaque, unknown or not decoded)
    decoded: bool

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        type: str,
        offset: int,
        size: int,
        header_size: int,
        path: str,
        children: list[Box] | None = None,
        fields: dict[str, Any] | None = None,
        usertype: bytes | None = None,
        to_end: bool = False,
        large: bool = False,
        truncated: bool = False,
        decoded: bool = False,
    ) -> None:
        self.type = type
        self.offset = offset
        self.size = size
        self.header_size = header_size
        self.path = path
        self.children = [] if children is None else children
        self.fields = {} if fields is None else fields
        self.usertype = usertype
        self.to_end = to_end
        self.large = large
        self.truncated = truncated
        self.decoded = decoded

    @property
    def end(self) -> int:
        return self.offset + self.size

    @property
    def payload_offset(self) -> int:
        return self.offset + self.header_size

    @property
    def payload_size(self) -> int:
        return self.size - self.header_size

    @property
    def version(self) -> int | None:
        v = self.fields.get("version")
        return v if isinstance(v, int) else None

    @property
    def flags(self) -> int | None:
        v = self.fields.get("flags")
        return v if isinstance(v, int) else None

    def get(self, name: str, default: Any = None) -> Any:
        """A decoded field, or ``default``."""
        return self.fields.get(name, default)

    def child(self, box_type: str) -> Box | None:
        """The first direct child of ``box_type``."""
        for c in self.children:
            if c.type == box_type:
                return c
        return None

    def all(self, box_type: str) -> list[Box]:
        """Every direct child of ``box_type``, in order."""
        return [c for c in self.children if c.type == box_type]

    def find(self, rel_path: str) -> Box | None:
        """First descendant along ``a/b/c`` (types, no indices): ``moov.find("trak/mdia/mdhd")``."""
        node: Box | None = self
        for part in rel_path.split("/"):
            if node is None:
                return None
            node = node.child(part)
        return node

    def find_all(self, rel_path: str) -> list[Box]:
        """Every descendant along ``a/b/c``: ``moof.find_all("traf/trun")``."""
        nodes = [self]
        for part in rel_path.split("/"):
            nodes = [c for n in nodes for c in n.children if c.type == part]
        return nodes

    def walk(self) -> Iterator[Box]:
        """This box and its descendants, depth first, in file order."""
        yield self
        for c in self.children:
            yield from c.walk()

    def to_json(self, *, fields: bool = True, max_list: int = 16) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type, "offset": self.offset, "size": self.size, "header_size": self.header_size,
            "path": self.path,
        }
        if self.usertype is not None:
            out["usertype"] = self.usertype.hex()
        for flag in ("to_end", "large", "truncated"):
            if getattr(self, flag):
                out[flag] = True
        if fields and self.fields:
            out["fields"] = {k: _jsonable(v, max_list) for k, v in self.fields.items()}
        if self.children:
            out["children"] = [c.to_json(fields=fields, max_list=max_list) for c in self.children]
        return out

    def __repr__(self) -> str:
        return f"Box({self.path!s} @{self.offset} size={self.size})"


def _jsonable(v: Any, max_list: int) -> Any:
    if isinstance(v, bytes):
        return v.hex() if len(v) <= 64 else v[:64].hex() + "..."
    if isinstance(v, list | tuple):
        items = [_jsonable(x, max_list) for x in v[:max_list]]
        if len(v) > max_list:
            items.append(f"... {len(v) - max_list} more")
        return items
    if isinstance(v, dict):
        return {str(k): _jsonable(x, max_list) for k, x in v.items()}
    if isinstance(v, int | float | str | bool) or v is None:
        return v
    to_json = getattr(v, "to_json", None)
    if callable(to_json):
        return to_json()
    return repr(v)


#: Kinds of structural problems; stable strings that rule modules map to rule ids.
ISSUE_KINDS = {
    "truncated": "the box header declares more bytes than the data holds",
    "size-too-small": "the size field is smaller than the header itself",
    "overruns-parent": "a child box extends past the end of its parent",
    "garbage": "bytes that cannot start a box (fewer than 8 left, or a non-printable type)",
    "to-end": "size 0: the box extends to the end of the data",
    "too-deep": "boxes nested deeper than the reader's limit; children not read",
    "too-large": "a box too large to decode in memory; kept opaque",
    "invalid-field": "a field could not be decoded (payload too short, impossible value)",
    "trailing-bytes": "bytes left in a box payload after its last field/child",
}


class BoxIssue(FrozenRecord):
    """A structural problem found while walking, reported as data so a walk never raises."""

    __slots__ = __match_args__ = ("kind", "offset", "path", "message")
    kind: str
    offset: int
    path: str
    message: str

    def __init__(self, kind: str, offset: int, path: str, message: str) -> None:
        put = object.__setattr__
        put(self, "kind", kind)
        put(self, "offset", offset)
        put(self, "path", path)
        put(self, "message", message)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "offset": self.offset, "path": self.path, "message": self.message}


class BoxTree(Record):
    """Top-level boxes of one source plus every issue met while reading them."""

    __slots__ = __match_args__ = ("name", "size", "boxes", "issues")
    name: str
    size: int
    boxes: list[Box]
    issues: list[BoxIssue]

    def __init__(
        self,
        name: str,
        size: int,
        boxes: list[Box] | None = None,
        issues: list[BoxIssue] | None = None,
    ) -> None:
        self.name = name
        self.size = size
        self.boxes = [] if boxes is None else boxes
        self.issues = [] if issues is None else issues

    def all(self, box_type: str) -> list[Box]:
        return [b for b in self.boxes if b.type == box_type]

    def first(self, box_type: str) -> Box | None:
        for b in self.boxes:
            if b.type == box_type:
                return b
        return None

    def walk(self) -> Iterator[Box]:
        for b in self.boxes:
            yield from b.walk()

    def to_json(self, *, fields: bool = True) -> dict[str, Any]:
        return {
            "name": self.name, "size": self.size,
            "boxes": [b.to_json(fields=fields) for b in self.boxes],
            "issues": [i.to_json() for i in self.issues],
        }
