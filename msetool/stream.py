"""The contract between byte stream readers and the simulator: a sans-IO segment parser.

The MSE segment parser loop consumes the SourceBuffer's input buffer incrementally: an append may hold half
a segment or several segments, and the result must not depend on where the bytes were cut. Each format
provides a :class:`ByteStreamParser` that is fed appended bytes and returns events in stream order. The
simulator runs the spec's algorithms on those events; it never looks at bytes itself.

Formats register by MIME subtype in :data:`PARSERS` (lazy imports keep start-up fast).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Literal, Protocol

from msetool.mime import MimeType
from msetool.model import CodedFrame, InitSegment

Profile = Literal["spec", "chromium"]


@dataclass(frozen=True, slots=True)
class InitSegmentParsed:
    """A complete initialization segment was parsed (runs the init segment received algorithm)."""

    init: InitSegment
    offset: int


@dataclass(frozen=True, slots=True)
class MediaSegmentStarted:
    """The parser entered PARSING_MEDIA_SEGMENT at ``offset`` (a moof, a Cluster, ...)."""

    offset: int
    path: str = ""


@dataclass(frozen=True, slots=True)
class FramesParsed:
    """Complete coded frames, in decode order per track, ready for coded frame processing."""

    frames: list[CodedFrame]


@dataclass(frozen=True, slots=True)
class MediaSegmentEnded:
    """The media segment ended (all its frames were emitted)."""

    offset: int


@dataclass(frozen=True, slots=True)
class ParseFailed:
    """The bytes violate the byte stream format: the append error algorithm runs.

    ``message`` reads like the browser's media log where we know it; ``rule`` names the validate rule that
    predicts this failure, so simulate, validate and explain agree.
    """

    message: str
    offset: int
    path: str = ""
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class ParseWarning:
    """Something a browser logs but tolerates (e.g. Chromium's media log warnings)."""

    message: str
    offset: int
    path: str = ""
    rule: str | None = None


ParserEvent = (
    InitSegmentParsed | MediaSegmentStarted | FramesParsed | MediaSegmentEnded | ParseFailed | ParseWarning
)


class ByteStreamParser(Protocol):
    """A sans-IO segment parser for one SourceBuffer.

    Offsets in events count bytes since the parser was created (the concatenation of every append), which
    lets callers map them back to files.
    """

    #: True for formats without timestamps of their own (MPEG audio): the SourceBuffer forces sequence mode.
    generate_timestamps: bool

    def feed(self, data: bytes) -> list[ParserEvent]:
        """Consume appended bytes; return every event they complete. After ParseFailed, nothing more."""
        ...

    def reset(self) -> None:
        """The spec's "reset parser state": drop buffered bytes and any partial media segment."""
        ...

    def flush(self) -> list[ParserEvent]:
        """End of stream: emit what only an end can complete (e.g. an unknown-size WebM Cluster)."""
        ...

    @property
    def in_media_segment(self) -> bool:
        """True while the append state is PARSING_MEDIA_SEGMENT (setters then throw InvalidStateError)."""
        ...


@dataclass(frozen=True, slots=True)
class FormatInfo:
    name: str
    subtypes: tuple[str, ...]
    parser: str  # "module:Class"
    checker: str = ""  # "module:function" for validate
    extra: dict[str, str] = field(default_factory=dict)


#: Byte stream formats of the MSE registry, keyed by name.
FORMATS: dict[str, FormatInfo] = {
    "mp4": FormatInfo("mp4", ("video/mp4", "audio/mp4"), "msetool.bmff.stream:BmffStreamParser",
                      "msetool.rules.bmff:check_stream"),
    "webm": FormatInfo("webm", ("video/webm", "audio/webm"), "msetool.webm.stream:WebmStreamParser",
                       "msetool.rules.webm:check_stream"),
    "mp2t": FormatInfo("mp2t", ("video/mp2t", "audio/mp2t"), "msetool.ts.stream:TsStreamParser",
                       "msetool.rules.ts:check_stream"),
    "mpeg": FormatInfo("mpeg", ("audio/mpeg", "audio/aac", "audio/mp3"),
                       "msetool.mpeg.stream:MpegAudioStreamParser", "msetool.rules.mpeg:check_stream"),
}


def format_of(mime: MimeType) -> str | None:
    """The byte stream format name for a MIME type, or None when no format registers it."""
    for info in FORMATS.values():
        if mime.essence in info.subtypes:
            return info.name
    return None


def load(ref: str) -> object:
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def parser_for(mime: MimeType, profile: Profile = "chromium") -> ByteStreamParser:
    """A fresh parser for the byte stream format of ``mime``; raises KeyError for unknown formats."""
    name = format_of(mime)
    if name is None:
        raise KeyError(mime.essence)
    cls = load(FORMATS[name].parser)
    parser: ByteStreamParser = cls(mime=mime, profile=profile)  # type: ignore[operator]
    return parser


def reset_parser(parser: ByteStreamParser) -> list[ParserEvent]:
    """Run the parser's reset (abort(), the append error algorithm) and return what the reset emits.

    Some browsers' parsers emit frames while they are reset: Chromium's MPEG-2 TS parser flushes the PES
    packets and access units it held back (``TsStreamParser.take_reset_events``). Coded frame processing
    must run on those events before the rest of "reset parser state". Parsers without such a method emit
    nothing.
    """
    parser.reset()
    take = getattr(parser, "take_reset_events", None)
    if take is None:
        return []
    events: list[ParserEvent] = take()
    return events
