"""MIME types as passed to ``addSourceBuffer()``: ``video/mp4; codecs="avc1.64001F,mp4a.40.2"``.

Only the RFC 6838/7231 surface lives here (type, subtype, parameters, the codecs list). What each codec
string means is :mod:`msetool.codecs.rfc6381`'s job.
"""

from __future__ import annotations

from msetool.errors import UsageError
from msetool.records import FrozenRecord


class MimeType(FrozenRecord):
    """A parsed type: a frozen record (:mod:`msetool.records`; hashing fails, since ``params`` is a dict)."""

    __slots__ = ("codecs", "params", "raw", "subtype", "type")
    __match_args__ = ("type", "subtype", "codecs", "params", "raw")
    type: str
    subtype: str
    codecs: tuple[str, ...]
    params: dict[str, str]
    raw: str

    def __init__(
        self,
        type: str,
        subtype: str,
        codecs: tuple[str, ...] = (),
        params: dict[str, str] | None = None,
        raw: str = "",
    ) -> None:
        put = object.__setattr__
        put(self, "type", type)
        put(self, "subtype", subtype)
        put(self, "codecs", codecs)
        put(self, "params", {} if params is None else params)
        put(self, "raw", raw)

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"

    def __str__(self) -> str:
        if not self.codecs:
            return self.essence
        return f'{self.essence}; codecs="{",".join(self.codecs)}"'


def _split_params(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_mime(text: str) -> MimeType:
    """Parse a MIME type; type/subtype and parameter names are case-insensitive, codec strings are not."""
    parts = _split_params(text)
    essence = parts[0].strip().lower()
    if essence.count("/") != 1 or not all(essence.split("/")):
        raise UsageError(f"not a MIME type: {text!r} (expected e.g. 'video/mp4; codecs=\"avc1.64001F\"')")
    typ, sub = essence.split("/")
    params: dict[str, str] = {}
    for p in parts[1:]:
        if not p.strip():
            continue
        name, eq, value = p.partition("=")
        if not eq:
            raise UsageError(f"MIME parameter without a value in {text!r}: {p.strip()!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[name.strip().lower()] = value
    codecs: tuple[str, ...] = ()
    if "codecs" in params:
        codecs = tuple(c.strip() for c in params["codecs"].split(",") if c.strip())
    return MimeType(typ, sub, codecs, params, text)
