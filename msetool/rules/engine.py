"""The validate engine: one byte stream (a list of appends) in, findings with file-relative offsets out.

MSE sees a SourceBuffer's input as one byte stream whatever the append boundaries, so the engine treats the
files it is given as slices of one logical stream (:class:`StreamSource`) and relocates every finding back
to the file (and byte offset inside it) that holds the offending byte. Four stages, generic over formats:

(a) the format's sans-IO :class:`~msetool.stream.ByteStreamParser` (the same one ``simulate`` runs) is fed
    the stream; its ``ParseFailed``/``ParseWarning`` events become findings, so validate and simulate agree
    on what makes a browser's append fail;
(b) the format's static checker (``FORMATS[fmt].checker``) walks the structure for everything the parser
    does not stop at (it keeps going after the first error);
(c) :mod:`msetool.rules.timeline` checks the segment model across segments (continuity, RAPs, drift, ...);
(d) :mod:`msetool.rules.codecs` compares the declared ``codecs`` parameter with the tracks.

Findings are deduplicated, capped per rule and file (the rest summarised as "and N more"), and sorted by
file order and offset.

Checker contract (``"module:function"`` in :data:`msetool.stream.FORMATS`; rules/bmff.py, rules/webm.py,
rules/ts.py and rules/mpeg.py implement it)::

    def check_stream(ctx: CheckContext) -> Iterable[Finding]

``ctx.source`` is the run's bytes as one :class:`~msetool.source.ByteSource` (offset 0 = first byte of the
run; ``read_at`` crosses file boundaries), ``ctx.mime`` the declared type (None when sniffed),
``ctx.events`` the parser's events for the run with run-relative offsets (the segment model: init segments,
media segments, frames), ``ctx.state`` a dict the checker may use to carry state from one run to the next
of the same SourceBuffer (an ``abort()`` starts a new run and keeps it; ``changeType()`` starts a new run
and clears it), ``ctx.ends_with_abort`` says an incomplete trailing segment is expected (the page aborted
it), ``ctx.options`` holds the user's options. The checker returns findings whose ``offset`` is
run-relative and whose ``file`` is left empty: the engine maps them to files. A checker must never raise
on bad bytes; if one does anyway the engine reports an internal finding instead of crashing.

Parsers may offer an optional fast path, ``skippable() -> int`` and ``skip(n) -> list[ParserEvent]``: the
number of upcoming bytes they will not look at (an ``mdat`` payload) and a way to advance past them; the
engine then never reads those bytes from disk. ``wanted() -> int`` (optional) says how many bytes the parser
needs before it can skip again, so the engine reads no more than that; a ``sample_checks`` attribute is set
to ``"rap"`` unless ``ValidateOptions.deep`` (analyse only the samples that decide random access). A parser
with a ``file_starts`` list attribute gets the parser offset where each append (file) begins, before its
bytes (so it can still analyse a sample whose bytes come from a later append than its moof).

A *run* is what one parser sees between resets: the whole list of files for ``validate FILES``, or the
appends between two ``abort()``/``changeType()`` calls of a scenario.
"""

from __future__ import annotations

import bisect
import contextlib
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from operator import add, le
from typing import Any, Literal

from msetool.errors import UsageError
from msetool.mime import MimeType, parse_mime
from msetool.model import CodedFrame, InitSegment
from msetool.records import FrozenRecord, Record
from msetool.rules.catalog import RULES, ensure_rule, finding
from msetool.rules.findings import Finding, Severity
from msetool.source import ByteSource
from msetool.stream import (
    FORMATS,
    PREROLL_MS,
    SEEK_TO_START_FUDGE,
    VIDEO_PREROLL_FRAMES,
    ByteStreamParser,
    FrameColumns,
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    ParseWarning,
    Profile,
    format_of,
    load,
    may_preroll_at_start,
    parser_for,
)

#: Rules whose findings are warnings because Chromium tolerates them although the spec makes them an append
#: error ("E/spec" in the design notes); with ``--profile spec`` they are reported as errors.
SPEC_ERRORS: set[str] = set()




MSE = "media-source"
ensure_rule(
    "GEN-12",
    "error",
    "Bytes violate the SourceBuffer's byte stream format",
    "The append error algorithm runs: the SourceBuffer fires 'error', the media element reports "
    "CHUNK_DEMUXER_ERROR_APPEND_FAILED and every later append throws InvalidStateError.",
    f"{MSE} §sourcebuffer-segment-parser-loop step 2",
)
ensure_rule(
    "BMFF-MEDIA-26",
    "error",
    "Parsed buffers not in DTS sequence",
    "Chromium's frame processor requires each track's frames of one parse batch in decode order; a batch "
    "where DTS goes back (typically two segments appended out of order in one append, or a discontinuity "
    "inside one) fails the append: 'Parsed buffers not in DTS sequence'.",
    "Chromium media/filters/frame_processor.cc ProcessFrames",
)
ensure_rule(
    "GEN-DECODE-01",
    "error",
    "A frame the paused element decodes first cannot be decoded",
    "The byte stream is valid and the append succeeds, but the element prerolls the start of the first "
    "buffered range (when it begins before 1 s: 4 video frames, ~200 ms of audio) and the decoder refuses a "
    "frame there (the reader marked it: bytes that are not this frame, a broken frame header): the media "
    "element reports PIPELINE_ERROR_DECODE and every later append throws InvalidStateError.",
    "Chromium media/filters/source_buffer_stream.cc kSeekToStartFudgeRoom; media/renderers",
)
ensure_rule(
    "GEN-LOG-01",
    "warning",
    "The browser logs a warning while parsing",
    "The append succeeds; the media log carries a warning that usually means lost or shifted media.",
    "Chromium media log",
)
ensure_rule(
    "GEN-MIME-01",
    "error",
    "The declared type is not an MSE byte stream format",
    "addSourceBuffer() throws NotSupportedError; nothing can be appended.",
    "mse-byte-stream-format-registry",
)
ensure_rule(
    "GEN-DETECT-01",
    "error",
    "The byte stream format cannot be recognised",
    "No MSE byte stream format starts like this; whatever type the page declares, the append fails.",
    f"{MSE} §byte-stream-formats",
)
ensure_rule(
    "GEN-TRUNC-01",
    "warning",
    "The stream ends inside a segment",
    "The browser keeps the partial segment waiting for more bytes; its samples are never buffered, and "
    "appending anything else next corrupts the stream unless the page calls abort() first.",
    f"{MSE} §sourcebuffer-segment-parser-loop",
)
ensure_rule(
    "GEN-EMPTY-01",
    "info",
    "Empty input",
    "A zero-length append completes immediately and changes nothing.",
    f"{MSE} §dom-sourcebuffer-appendbuffer",
)
ensure_rule(
    "GEN-INTERNAL-01",
    "error",
    "msetool could not check this input",
    "Not a browser behaviour: a checker hit a bug. The other findings stand; please report the input.",
    "msetool",
)

# --------------------------------------------------------------------------------------------------------
# Inputs


class Slice(FrozenRecord):
    """One append: ``source[start:end]``; ``label`` names it in findings (the path the user gave)."""

    __slots__ = __match_args__ = ("source", "start", "end", "label")
    source: ByteSource
    start: int
    end: int | None
    label: str

    def __init__(self, source: ByteSource, start: int = 0, end: int | None = None, label: str = "") -> None:
        put = object.__setattr__
        put(self, "source", source)
        put(self, "start", start)
        put(self, "end", end)
        put(self, "label", label)

    @property
    def name(self) -> str:
        return self.label or self.source.name

    @property
    def stop(self) -> int:
        size = self.source.size
        return size if self.end is None else max(self.start, min(self.end, size))

    @property
    def size(self) -> int:
        return max(0, self.stop - self.start)


class Reset(FrozenRecord):
    """A scenario operation that cuts the byte stream: ``abort()`` (reset parser state, keep the init
    segment) or ``changeType(mime)`` (a new parser; the next segment must be an init segment)."""

    __slots__ = __match_args__ = ("kind", "mime")
    kind: Literal["abort", "changeType", "endOfStream"]
    mime: MimeType | None

    def __init__(
        self, kind: Literal["abort", "changeType", "endOfStream"], mime: MimeType | None = None
    ) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "mime", mime)


StreamItem = Slice | Reset


class StreamSource:
    """Slices as one ByteSource; ``locate`` maps a stream offset back to (slice index, offset in its file).

    A small read inside one slice reads :data:`_READ_AHEAD` bytes (up to the slice's end) and keeps them:
    a checker walking box or element headers asks for a few bytes at a time, mostly inside what it just
    read (a fragment's styp, sidx, moof and mdat header are one read instead of seven)."""

    def __init__(self, slices: Sequence[Slice], name: str = "<stream>") -> None:
        self.slices = list(slices)
        self.name = name
        self.starts: list[int] = []
        #: each slice's size (a Slice computes it from its source every time)
        self.sizes: list[int] = []
        pos = 0
        for s in self.slices:
            self.starts.append(pos)
            n = s.size
            self.sizes.append(n)
            pos += n
        self._size = pos
        self._block = b""
        self._block_at = 0  # stream offset of _block[0]

    @property
    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        if length <= 0 or offset >= self._size or offset < 0:
            return b""
        at = offset - self._block_at
        if at >= 0 and at + length <= len(self._block):
            return self._block[at : at + length]
        i = max(0, bisect.bisect_right(self.starts, offset) - 1)
        local = offset - self.starts[i]
        room = self.sizes[i] - local
        if length <= room:  # inside one slice (the common case)
            s = self.slices[i]
            if length >= _READ_AHEAD:
                return s.source.read_at(s.start + local, length)
            n = min(_READ_AHEAD, room)
            block = s.source.read_at(s.start + local, n)
            if len(block) == n:
                self._block, self._block_at = block, offset
            return block[:length] if len(block) > length else block
        out = bytearray()
        while length > 0 and i < len(self.slices):
            s = self.slices[i]
            local = offset - self.starts[i]
            take = min(length, self.sizes[i] - local)
            if take > 0:
                chunk = s.source.read_at(s.start + local, take)
                out += chunk
                if len(chunk) < take:
                    break
                offset += take
                length -= take
            i += 1
        return bytes(out)

    def locate(self, offset: int) -> tuple[int, int]:
        """(slice index, byte offset inside that slice's file) for a stream offset (clamped)."""
        if not self.slices:
            return 0, offset
        i = max(0, min(len(self.slices) - 1, bisect.bisect_right(self.starts, offset) - 1))
        # An offset exactly at a boundary belongs to the next non-empty slice.
        while i + 1 < len(self.slices) and offset >= self.starts[i] + self.sizes[i]:
            i += 1
        return i, self.slices[i].start + (offset - self.starts[i])


class ValidateOptions(FrozenRecord):
    __slots__ = __match_args__ = (
        "profile", "target_duration", "max_per_rule", "chunk_size", "deep", "raw_timeline", "parser_factory",
    )  # fmt: skip
    profile: Profile
    #: Target segment duration in seconds for the duration-spread rule (None: the median duration).
    target_duration: float | None
    #: Findings kept per (rule, file) before the rest are summarised.
    max_per_rule: int
    #: Chunk size used to feed the parser.
    chunk_size: int
    #: Analyse every sample's bytes (``validate --deep``). Off, a parser offering ``sample_checks`` analyses
    #: only the samples that decide random access, and sample bytes nothing reads are skipped, not read.
    deep: bool
    #: Whether decode times are the timeline (False when a scenario moves segments with timestampOffset or
    #: sequence mode: gaps and overlaps between raw tfdt values then say nothing about ``buffered``).
    raw_timeline: bool
    #: Builds the byte stream parser instead of the format registry (None: ``parser_for``). For a caller that
    #: already parsed the same bytes (``fragment``'s self-check simulates them) and can replay the events.
    parser_factory: Callable[[MimeType, Profile], ByteStreamParser] | None

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        profile: Profile = "chromium",
        target_duration: float | None = None,
        max_per_rule: int = 5,
        chunk_size: int = 4 * 1024 * 1024,
        deep: bool = False,
        raw_timeline: bool = True,
        parser_factory: Callable[[MimeType, Profile], ByteStreamParser] | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "profile", profile)
        put(self, "target_duration", target_duration)
        put(self, "max_per_rule", max_per_rule)
        put(self, "chunk_size", chunk_size)
        put(self, "deep", deep)
        put(self, "raw_timeline", raw_timeline)
        put(self, "parser_factory", parser_factory)


class CheckContext(Record):
    """What a format checker sees for one run (see the module docstring for the contract)."""

    __slots__ = __match_args__ = (
        "source", "mime", "events", "options", "state", "ends_with_abort", "boundaries",
    )  # fmt: skip
    source: ByteSource
    mime: MimeType | None
    events: list[ParserEvent]
    options: ValidateOptions
    state: dict[str, Any]
    ends_with_abort: bool
    #: Run-relative offsets where each appended slice starts (append boundaries).
    boundaries: tuple[int, ...]

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        source: ByteSource,
        mime: MimeType | None,
        events: list[ParserEvent],
        options: ValidateOptions,
        state: dict[str, Any] | None = None,
        ends_with_abort: bool = False,
        boundaries: tuple[int, ...] = (),
    ) -> None:
        self.source = source
        self.mime = mime
        self.events = events
        self.options = options
        self.state = {} if state is None else state
        self.ends_with_abort = ends_with_abort
        self.boundaries = boundaries


Checker = Callable[[CheckContext], Iterable[Finding]]


# --------------------------------------------------------------------------------------------------------
# The segment model seen by cross-segment rules


class TrackSpan(Record):
    """One track's frames inside one media segment, summarised (constant memory per segment)."""

    __slots__ = __match_args__ = (
        "track_id", "timescale", "count", "first_dts", "first_pts", "min_pts", "end_dts", "max_end_pts",
        "first_keyframe", "keyframes", "last_duration", "total_duration", "max_duration",
    )  # fmt: skip
    track_id: int
    timescale: int
    count: int
    first_dts: int
    first_pts: int
    min_pts: int
    end_dts: int  # last dts + last duration
    max_end_pts: int
    first_keyframe: bool
    keyframes: int
    last_duration: int
    total_duration: int
    max_duration: int

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        track_id: int,
        timescale: int,
        count: int = 0,
        first_dts: int = 0,
        first_pts: int = 0,
        min_pts: int = 0,
        end_dts: int = 0,
        max_end_pts: int = 0,
        first_keyframe: bool = False,
        keyframes: int = 0,
        last_duration: int = 0,
        total_duration: int = 0,
        max_duration: int = 0,
    ) -> None:
        self.track_id = track_id
        self.timescale = timescale
        self.count = count
        self.first_dts = first_dts
        self.first_pts = first_pts
        self.min_pts = min_pts
        self.end_dts = end_dts
        self.max_end_pts = max_end_pts
        self.first_keyframe = first_keyframe
        self.keyframes = keyframes
        self.last_duration = last_duration
        self.total_duration = total_duration
        self.max_duration = max_duration


class SegmentRecord(Record):
    """A media segment located in a file, with per-track spans, in append order."""

    __slots__ = __match_args__ = ("index", "file", "offset", "path", "run", "init", "tracks", "after_reset")
    index: int
    file: str
    offset: int  # inside ``file``
    path: str
    run: int
    init: InitSegment | None
    tracks: dict[int, TrackSpan]
    after_reset: bool

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        index: int,
        file: str,
        offset: int,
        path: str,
        run: int,
        init: InitSegment | None,
        tracks: dict[int, TrackSpan] | None = None,
        after_reset: bool = False,
    ) -> None:
        self.index = index
        self.file = file
        self.offset = offset
        self.path = path
        self.run = run
        self.init = init
        self.tracks = {} if tracks is None else tracks
        self.after_reset = after_reset


class InitRecord(Record):
    __slots__ = __match_args__ = ("file", "offset", "run", "init", "mime", "after_change_type")
    file: str
    offset: int
    run: int
    init: InitSegment
    mime: MimeType | None
    #: True when a changeType() came between the previous init segment and this one.
    after_change_type: bool

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        file: str,
        offset: int,
        run: int,
        init: InitSegment,
        mime: MimeType | None,
        after_change_type: bool = False,
    ) -> None:
        self.file = file
        self.offset = offset
        self.run = run
        self.init = init
        self.mime = mime
        self.after_change_type = after_change_type


class StreamModel(Record):
    """Every init and media segment the parser produced, in order (input to timeline and codec rules)."""

    __slots__ = __match_args__ = ("inits", "segments")
    inits: list[InitRecord]
    segments: list[SegmentRecord]

    def __init__(
        self, inits: list[InitRecord] | None = None, segments: list[SegmentRecord] | None = None
    ) -> None:
        self.inits = [] if inits is None else inits
        self.segments = [] if segments is None else segments


class Validation(Record):
    """The result for one byte stream (a file list, or one SourceBuffer of a scenario)."""

    __slots__ = __match_args__ = ("files", "findings", "model", "mime", "format")
    files: list[str]
    findings: list[Finding]
    model: StreamModel
    mime: MimeType | None
    format: str | None

    def __init__(
        self,
        files: list[str],
        findings: list[Finding],
        model: StreamModel,
        mime: MimeType | None = None,
        format: str | None = None,
    ) -> None:
        self.files = files
        self.findings = findings
        self.model = model
        self.mime = mime
        self.format = format


# --------------------------------------------------------------------------------------------------------
# Format detection


def sniff_format(head: bytes) -> str | None:
    """The byte stream format the first bytes belong to, or None (the type must then be given)."""
    if len(head) >= 8 and head[4:8] in (
        b"ftyp",
        b"styp",
        b"moov",
        b"moof",
        b"sidx",
        b"free",
        b"skip",
        b"emsg",
        b"prft",
        b"pdin",
        b"mdat",
        b"uuid",
        b"meta",
    ):
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:1] == b"\x47" and (len(head) < 189 or head[188:189] == b"\x47"):
        return "mp2t"
    if head[:3] == b"ID3" or head[:4] == b"ICY ":
        return "mpeg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "mpeg"
    return None


_DEFAULT_TYPES = {"mp4": "video/mp4", "webm": "video/webm", "mp2t": "video/mp2t", "mpeg": "audio/mpeg"}


def default_mime(fmt: str, head: bytes = b"") -> MimeType:
    """A codec-less type for a sniffed format (ADTS sniffs as audio/aac, other MPEG audio as audio/mpeg)."""
    if fmt == "mpeg" and len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return parse_mime("audio/aac")
    return parse_mime(_DEFAULT_TYPES[fmt])


def detect_mime(sources: Sequence[ByteSource | Slice]) -> MimeType | None:
    """The type for the first non-empty input, sniffed from its first bytes."""
    for s in sources:
        sl = s if isinstance(s, Slice) else Slice(s)
        if sl.size == 0:
            continue
        head = sl.source.read_at(sl.start, min(sl.size, 512))
        fmt = sniff_format(head)
        return default_mime(fmt, head) if fmt else None
    return None


# --------------------------------------------------------------------------------------------------------
# Running the parser


class _OffsetMap:
    """Maps the parser's offsets (bytes since it was created) to run offsets; priming bytes map to None."""

    def __init__(self, fed: int = 0) -> None:
        self.parser_starts: list[int] = []
        self.run_starts: list[int | None] = []
        #: bytes the parser was fed before this run (a parser continued after abort() keeps counting)
        self.fed = fed
        #: every piece so far is at the same offset for the parser and in the run (a fresh parser fed the
        #: run in order, no priming): an offset maps to itself
        self.same = True

    def add(self, run_offset: int | None, length: int) -> None:
        if length <= 0:
            return
        if run_offset != self.fed:
            self.same = False
        self.parser_starts.append(self.fed)
        self.run_starts.append(run_offset)
        self.fed += length

    def to_run(self, parser_offset: int) -> int | None:
        if not self.parser_starts:
            return None
        if parser_offset < self.parser_starts[0]:
            return 0  # refers to bytes of an earlier run: pin it to the start of this one
        if self.same:
            return parser_offset
        i = max(0, bisect.bisect_right(self.parser_starts, parser_offset) - 1)
        base = self.run_starts[i]
        return None if base is None else base + (parser_offset - self.parser_starts[i])


class _RunResult(Record):
    __slots__ = __match_args__ = ("events", "findings", "truncated_at", "last_init", "fed", "undecodable")
    events: list[ParserEvent]
    findings: list[Finding]
    truncated_at: int | None
    last_init: tuple[int, int] | None  # (run offset, size) of the last init segment parsed
    fed: int  # total bytes the returned parser has been fed
    #: frames the reader marked ``decode_error`` (run offset, frame), the first few per track
    undecodable: list[tuple[int, CodedFrame]]

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        events: list[ParserEvent],
        findings: list[Finding],
        truncated_at: int | None,
        last_init: tuple[int, int] | None,
        fed: int = 0,
        undecodable: list[tuple[int, CodedFrame]] | None = None,
    ) -> None:
        self.events = events
        self.findings = findings
        self.truncated_at = truncated_at
        self.last_init = last_init
        self.fed = fed
        self.undecodable = [] if undecodable is None else undecodable


#: bytes read at once when the parser wants fewer (see _run_parser)
_READ_AHEAD = 4096

#: decode-error frames kept per track and run (only the earliest ones can be prerolled)
_UNDECODABLE_KEPT = 8



def _note_undecodable(ev: FramesParsed, omap: _OffsetMap, out: list[tuple[int, CodedFrame]]) -> None:
    """Keep the first few frames per track the reader marked ``decode_error`` that a paused element could
    preroll from the start (may_preroll_at_start: only those can fail it, and a reader may leave the others
    unchecked); sparse in the columns: only those few become frame objects."""
    frames = ev.built_frames
    if frames is not None:
        for f in frames:
            if (f.decode_error is not None and may_preroll_at_start(f.pts, f.duration, f.timescale)
                    and sum(1 for _o, g in out if g.track_id == f.track_id) < _UNDECODABLE_KEPT):
                o = omap.to_run(f.offset)
                if o is not None:
                    out.append((o, f))
        return
    for c in ev.columns:
        errs = c.decode_errors
        if not errs:
            continue
        tid = c.track_id
        for i in sorted(errs):
            err = errs[i]
            if not may_preroll_at_start(c.pts[i], c.duration[i], c.timescale):
                continue
            if sum(1 for _o, g in out if g.track_id == tid) >= _UNDECODABLE_KEPT:
                break
            o = omap.to_run(c.offset[i])
            if o is not None:
                out.append((o, CodedFrame(tid, c.dts[i], c.pts[i], c.duration[i], c.timescale, c.keyframe[i],
                                          c.size[i], c.offset[i], i in c.estimated, err)))


def _note_file_start(parser: ByteStreamParser, parser_offset: int, size: int) -> None:
    """Tell a parser that declares a ``file_starts`` list where the next append begins (parser offsets)."""
    starts = getattr(parser, "file_starts", None)
    if isinstance(starts, list) and size:
        starts.append(parser_offset)


def _new_parser(
    mime: MimeType,
    profile: Profile,
    deep: bool = True,
    factory: Callable[[MimeType, Profile], ByteStreamParser] | None = None,
) -> ByteStreamParser | None:
    try:
        parser = (factory or parser_for)(mime, profile)
    except (KeyError, ImportError, AttributeError):
        return None
    if not deep and hasattr(parser, "sample_checks"):
        parser.sample_checks = "rap"
    return parser


def _run_parser(
    run: StreamSource,
    *,
    mime: MimeType,
    options: ValidateOptions,
    parser: ByteStreamParser | None,
    prime: bytes,
    flush: bool,
    fed: int = 0,
) -> tuple[_RunResult, ByteStreamParser | None]:
    """Feed one run to ``parser`` (continuing) or to a fresh one; after a ParseFailed, restart a fresh parser
    at the next append boundary, primed with the last good init segment, so later files are still checked.
    """
    events: list[ParserEvent] = []
    findings: list[Finding] = []
    omap = _OffsetMap(fed if parser is not None else 0)
    last_init: tuple[int, int] | None = None
    undecodable: list[tuple[int, CodedFrame]] = []
    if parser is None:
        parser = _new_parser(mime, options.profile, options.deep, options.parser_factory)
        if parser is None:
            return _RunResult(events, findings, None, None), None
        if prime:
            omap.add(None, len(prime))
            _safe_feed(parser, prime)
    failed = False
    chromium = options.profile == "chromium"
    chunk = options.chunk_size
    for i, sl in enumerate(run.slices):
        base = run.starts[i]
        if failed:
            # Restart on a clean parser at this append boundary, primed with the last good init segment,
            # so later files are still checked. Without one, every later media segment would only repeat
            # "media segment before init segment": stop instead.
            if last_init is None and not prime:
                break
            fresh = _new_parser(mime, options.profile, options.deep, options.parser_factory)
            if fresh is None:
                break
            parser, failed = fresh, False
            omap = _OffsetMap()
            if last_init is not None:
                init_bytes = run.read_at(*last_init)
                omap.add(None, len(init_bytes))
                _safe_feed(parser, init_bytes)
            elif prime:
                omap.add(None, len(prime))
                _safe_feed(parser, prime)
        size = run.sizes[i]
        _note_file_start(parser, omap.fed, size)
        pos = 0
        read_at, start = sl.source.read_at, sl.start
        # small reads (box headers, a moof) are served from one read of the next _READ_AHEAD bytes: the
        # parser is still fed exactly the pieces it asked for
        ahead, ahead_at = b"", 0
        while pos < size and not failed:
            # Optional fast path: a parser that knows the next bytes are payload it never looks at (an mdat
            # it only counts) says how many, and the engine skips reading them from disk.
            skippable = _skippable(parser)
            if skippable > 0:
                n = min(skippable, size - pos)
                omap.add(base + pos, n)
                pos += n
                evs = _safe_skip(parser, n)
            else:
                n = min(chunk, size - pos)
                wanted = _wanted(parser)
                if wanted > 0:
                    n = min(n, wanted)
                at = pos - ahead_at
                if at < 0 or at + n > len(ahead):
                    if n < _READ_AHEAD:
                        ahead, ahead_at, at = read_at(start + pos, min(_READ_AHEAD, size - pos)), pos, 0
                    else:
                        ahead, ahead_at, at = read_at(start + pos, n), pos, 0
                data = ahead[at : at + n] if at or len(ahead) != n else ahead
                if not data:
                    break
                omap.add(base + pos, len(data))
                pos += len(data)
                evs = _safe_feed(parser, data)
            if not evs:  # most reads only complete a header
                continue
            init_at, failed = _keep_events(evs, omap, events, undecodable, chromium)
            last_init = init_at or last_init
    truncated_at: int | None = None
    if flush and not failed:
        _keep_events(_safe_flush(parser), omap, events, undecodable)
        with contextlib.suppress(Exception):
            if parser.in_media_segment:
                starts = [e.offset for e in events if isinstance(e, MediaSegmentStarted)]
                truncated_at = starts[-1] if starts else 0
    result = _RunResult(events, findings, truncated_at, last_init, omap.fed, undecodable)
    return result, (None if failed else parser)


def _keep_events(
    evs: list[ParserEvent],
    omap: _OffsetMap,
    events: list[ParserEvent],
    undecodable: list[tuple[int, CodedFrame]],
    dts_order: bool = False,
) -> tuple[tuple[int, int] | None, bool]:
    """Append the parser's events to the run's, relocated, frame batches summarised; returns (run offset
    and size of the last init segment among them, whether one is a ParseFailed).

    With ``dts_order`` the batch is first held to Chromium's DTS order (:func:`_dts_order`), checked here in
    the same pass over the columns as the summary. A batch whose summary directly follows another's (no
    event between, so nothing the segment model tells apart) is merged into it: the model adds batches up
    in the same way, and a replayed stream's segments arrive in several batches each."""
    last_init: tuple[int, int] | None = None
    failed = False
    fail: ParserEvent | None = None
    for ev in evs:
        if isinstance(ev, FramesParsed):
            if isinstance(ev, _FrameSummary):
                events.append(ev)
                continue
            # the run's events are kept until its checker and model have seen them: keep each batch's
            # per-track aggregates, not its frames, so memory does not grow with the file
            frames = ev.built_frames
            if frames is not None:
                if dts_order:
                    fail = _dts_step_back(frames, omap)
                _note_undecodable(ev, omap, undecodable)
                events.append(_summarise_frames(frames))
            else:
                cols = ev.columns
                for c in cols:
                    if c.decode_errors:
                        _note_undecodable(ev, omap, undecodable)
                        break
                prev = events[-1] if events else None
                if type(prev) is _FrameSummary and prev.merged:
                    fail = _summarise_into(prev.spans, cols, omap, dts_order)
                else:
                    spans: dict[int, tuple[int, ...]] = {}
                    fail = _summarise_into(spans, cols, omap, dts_order)
                    events.append(_FrameSummary(spans, merged=True))
            if fail is None:
                continue
        # after a batch whose DTS went back, its failure: the append fails there, the rest is not seen
        ev2 = _relocate_event(ev if fail is None else fail, omap)
        if ev2 is not None:
            events.append(ev2)
            if isinstance(ev2, InitSegmentParsed):
                last_init = (ev2.offset, ev2.init.size)
            elif isinstance(ev2, ParseFailed):
                failed = True
        if fail is not None:
            break
    return last_init, failed


def _summarise_into(
    spans: dict[int, tuple[int, ...]],
    columns: Iterable[FrameColumns],
    omap: _OffsetMap | None = None,
    dts_order: bool = False,
) -> ParseFailed | None:
    """:func:`_summarise` adding to ``spans`` (what the batches before it of the same segment add up to),
    and with ``dts_order`` :func:`_dts_order`'s check of the same columns (its ParseFailed, or None).

    Every column costs a few passes of builtins; the common shapes take shorter ones with the same results:
    decode times already in order (known from a sort that finds them sorted), presentation times equal to
    them (no reordering: the first and last are the extremes), one duration for every frame."""
    fail: ParseFailed | None = None
    last: dict[int, int] | None = {} if dts_order and omap is not None else None
    for c in columns:
        dts, pts, dur, kf = c.dts, c.pts, c.duration, c.keyframe
        tid = c.track_id
        n = len(dts)
        ascending = dts == sorted(dts) if type(dts) is list else all(map(le, dts, islice(dts, 1, None)))
        if last is not None and omap is not None:
            prev_dts = last.get(tid)
            if prev_dts is not None and dts[0] < prev_dts:
                bad = 0
            elif ascending:
                last[tid] = dts[-1]
                bad = -1
            else:
                bad = next(k for k in range(1, n) if dts[k] < dts[k - 1])
                prev_dts = dts[bad - 1]
            if bad >= 0:
                last = None  # the first step back decides; the rest of the batch is not checked
                if omap.to_run(c.offset[bad]) is not None:
                    fail = ParseFailed(
                        f"Parsed buffers not in DTS sequence (track {tid}: DTS {dts[bad]} after {prev_dts}, "
                        f"timescale {c.timescale})",
                        c.offset[bad],
                        "",
                        "BMFF-MEDIA-26",
                    )
        if ascending and (pts is dts or pts == dts):
            min_pts, max_pts = pts[0], pts[-1]
        else:
            min_pts, max_pts = min(pts), None
        d0, last_dur = dur[0], dur[-1]
        if type(d0) is int and type(dur) is list and dur.count(d0) == n:
            total, max_dur = n * d0, d0
            max_end = (max(pts) if max_pts is None else max_pts) + d0
        else:
            total, max_dur, max_end = sum(dur), max(dur), max(map(add, pts, dur))
        keys = n - kf.count(False) if type(kf) is list else sum(map(bool, kf))
        prev = spans.get(tid)
        if prev is None:
            spans[tid] = (c.timescale, dts[0], pts[0], int(kf[0]), d0, n, min_pts, max_end,
                          dts[-1] + last_dur, keys, last_dur, total, max_dur)
        else:  # the track's frames continue in a later column (or batch)
            ts, dts0, pts0, key0, dur0, n0, min0, end0, _e, keys0, _l, total0, maxd0 = prev
            spans[tid] = (ts, dts0, pts0, key0, dur0, n0 + n, min(min0, min_pts), max(end0, max_end),
                          dts[-1] + last_dur, keys0 + keys, last_dur, total0 + total, max(maxd0, max_dur))
    return fail


class _FrameSummary(FramesParsed):
    """A batch of frames reduced to what the segment model needs, per track: (timescale, first dts, first
    pts, first keyframe, first duration, count, min pts, max end pts, end dts, keyframes, last duration,
    total duration, max duration)."""

    __slots__ = ("merged", "spans")

    def __init__(self, spans: dict[int, tuple[int, ...]], merged: bool = False) -> None:
        super().__init__([])
        self.spans = spans
        #: built by :func:`_keep_events`, which may add the next batch's frames to it
        self.merged = merged


def _summarise(columns: Iterable[FrameColumns]) -> _FrameSummary:
    """Per-track aggregates of a batch, from its columns with builtins (no work per frame in Python)."""
    spans: dict[int, tuple[int, ...]] = {}
    _summarise_into(spans, columns)
    return _FrameSummary(spans)


def _summarise_frames(frames: list[CodedFrame]) -> _FrameSummary:
    """:func:`_summarise` for a batch of frame objects."""
    by_track: dict[int, list[CodedFrame]] = {}
    for f in frames:
        by_track.setdefault(f.track_id, []).append(f)
    spans: dict[int, tuple[int, ...]] = {}
    for tid, fs in by_track.items():
        f0, last = fs[0], fs[-1]
        durs = [f.duration for f in fs]
        spans[tid] = (
            f0.timescale,
            f0.dts,
            f0.pts,
            int(f0.keyframe),
            f0.duration,
            len(fs),
            min(f.pts for f in fs),
            max(f.pts + f.duration for f in fs),
            last.dts + last.duration,
            sum(1 for f in fs if f.keyframe),
            last.duration,
            sum(durs),
            max(durs),
        )
    return _FrameSummary(spans)


def _dts_step_back(frames: list[CodedFrame], omap: _OffsetMap) -> ParseFailed | None:
    """:func:`_dts_order`'s check for a batch of frame objects."""
    last: dict[int, int] = {}
    for f in frames:
        prev = last.get(f.track_id)
        if prev is not None and f.dts < prev:
            if omap.to_run(f.offset) is None:
                return None  # frames of the priming init replay cannot exist; be safe anyway
            return ParseFailed(
                f"Parsed buffers not in DTS sequence (track {f.track_id}: DTS {f.dts} after {prev}, "
                f"timescale {f.timescale})",
                f.offset,
                "",
                "BMFF-MEDIA-26",
            )
        last[f.track_id] = f.dts
    return None


def _dts_order(evs: list[ParserEvent], omap: _OffsetMap) -> list[ParserEvent]:
    """Chromium's FrameProcessor: within one parse batch each track's DTS must not go back; if it does the
    append fails there, so the events stop with a ParseFailed (offset in parser terms, like the others).
    Checked per column with builtins; only a failing column is searched for its first step back."""
    for at, ev in enumerate(evs):
        if not isinstance(ev, FramesParsed) or isinstance(ev, _FrameSummary):
            continue
        frames = ev.built_frames
        if frames is not None:
            fail = _dts_step_back(frames, omap)
            if fail is not None:
                return [*evs[: at + 1], fail]
            continue
        last: dict[int, int] = {}
        for c in ev.columns:
            tid, dts = c.track_id, c.dts
            prev = last.get(tid)
            if prev is not None and dts[0] < prev:
                bad = 0
            elif all(map(le, dts, islice(dts, 1, None))):
                last[tid] = dts[-1]
                continue
            else:
                bad = next(k for k in range(1, len(dts)) if dts[k] < dts[k - 1])
                prev = dts[bad - 1]
            if omap.to_run(c.offset[bad]) is None:
                break  # frames of the priming init replay cannot exist; be safe anyway
            return [
                *evs[: at + 1],
                ParseFailed(
                    f"Parsed buffers not in DTS sequence (track {tid}: DTS {dts[bad]} after {prev}, "
                    f"timescale {c.timescale})",
                    c.offset[bad],
                    "",
                    "BMFF-MEDIA-26",
                ),
            ]
    return evs


def _relocate_event(ev: ParserEvent, omap: _OffsetMap) -> ParserEvent | None:
    if isinstance(ev, FramesParsed):
        return ev
    off = omap.to_run(ev.offset)
    if off is None:
        return None  # from priming bytes
    if off == ev.offset:
        return ev  # frozen: the same event
    # the per-segment events, built directly (a generic replace() costs more than the rest of the loop)
    if type(ev) is MediaSegmentStarted:
        return MediaSegmentStarted(off, ev.path)
    if type(ev) is MediaSegmentEnded:
        return MediaSegmentEnded(off)
    return ev.replace(offset=off)


def _skippable(parser: ByteStreamParser) -> int:
    """Bytes the parser declares it will not inspect next (``parser.skippable()``, optional; 0 if absent).

    A parser offering it must also offer ``skip(n) -> list[ParserEvent]``, equivalent to feeding ``n``
    bytes whose values do not matter (e.g. the rest of an mdat payload).
    """
    fn = getattr(parser, "skippable", None)
    if fn is None or not callable(getattr(parser, "skip", None)):
        return 0
    try:
        n = fn()
    except Exception:
        return 0
    return n if isinstance(n, int) and n > 0 else 0


def _wanted(parser: ByteStreamParser) -> int:
    """Bytes the parser needs next before it can say more (``parser.wanted()``, optional; 0: a chunk)."""
    fn = getattr(parser, "wanted", None)
    if fn is None:
        return 0
    try:
        n = fn()
    except Exception:
        return 0
    return n if isinstance(n, int) and n > 0 else 0


def _safe_skip(parser: ByteStreamParser, n: int) -> list[ParserEvent]:
    try:
        out: list[ParserEvent] = parser.skip(n)  # type: ignore[attr-defined]
        return out
    except Exception as e:
        return [ParseFailed(f"parser raised {type(e).__name__}: {e}", 0, "", "GEN-INTERNAL-01")]


def _safe_feed(parser: ByteStreamParser, data: bytes) -> list[ParserEvent]:
    try:
        return parser.feed(data)
    except Exception as e:  # a parser bug must not hide the other findings
        return [ParseFailed(f"parser raised {type(e).__name__}: {e}", 0, "", "GEN-INTERNAL-01")]


def _safe_flush(parser: ByteStreamParser) -> list[ParserEvent]:
    try:
        return parser.flush()
    except Exception as e:
        return [
            ParseFailed(f"parser raised {type(e).__name__} at end of stream: {e}", 0, "", "GEN-INTERNAL-01")
        ]


def _event_findings(events: list[ParserEvent]) -> list[Finding]:
    out: list[Finding] = []
    for ev in events:
        if isinstance(ev, ParseFailed):
            rid = ev.rule if ev.rule in RULES else "GEN-12"
            msg = ev.message
            if ev.rule and ev.rule not in RULES:
                msg = f"[{ev.rule}] {msg}"
            # the browser's own words, then what happens
            out.append(
                finding(
                    rid,
                    f"{msg} (the browser's append fails here)",
                    offset=ev.offset,
                    box=ev.path,
                    severity=Severity.ERROR,
                )
            )
        elif isinstance(ev, ParseWarning):
            # The browser tolerated it: never more than a warning, whatever the rule's default.
            rid = ev.rule if ev.rule in RULES else "GEN-LOG-01"
            sev = RULES[rid].severity
            out.append(
                finding(
                    rid,
                    ev.message,
                    offset=ev.offset,
                    box=ev.path,
                    severity=Severity.WARNING if sev == Severity.ERROR else sev,
                )
            )
    return out


# --------------------------------------------------------------------------------------------------------
# Model building (cross-segment rules work on summaries, not on every frame, to keep memory flat)


def _build_model(
    model: StreamModel,
    *,
    events: list[ParserEvent],
    run: StreamSource,
    run_index: int,
    mime: MimeType | None,
    after_change_type: bool,
    after_reset: bool,
) -> None:
    current: SegmentRecord | None = None
    init: InitSegment | None = model.inits[-1].init if model.inits else None
    first_init = True
    for ev in events:
        # the kinds are disjoint classes: the most frequent first (a summary, then a segment's bounds)
        if isinstance(ev, FramesParsed):
            if current is None:
                continue
            spans = ev.spans if isinstance(ev, _FrameSummary) else _summarise_frames(ev.frames).spans
            tracks = current.tracks
            for tid, (
                ts,
                dts0,
                pts0,
                key0,
                dur0,
                n,
                min_pts,
                max_end,
                end_dts,
                keys,
                last_dur,
                total,
                max_dur,
            ) in spans.items():
                sp = tracks.get(tid)
                if sp is None:  # the track's first frames in this segment: the span as adding them makes it
                    tracks[tid] = TrackSpan(tid, ts, n, dts0, pts0, min(pts0, min_pts), end_dts,
                                            max(pts0 + dur0, max_end), bool(key0), keys, last_dur, total,
                                            max(0, max_dur))
                    continue
                sp.count += n
                sp.min_pts = min(sp.min_pts, min_pts)
                sp.max_end_pts = max(sp.max_end_pts, max_end)
                sp.end_dts = end_dts
                sp.keyframes += keys
                sp.last_duration = last_dur
                sp.total_duration += total
                sp.max_duration = max(sp.max_duration, max_dur)
        elif isinstance(ev, MediaSegmentStarted):
            i, local = run.locate(ev.offset)
            current = SegmentRecord(
                len(model.segments),
                run.slices[i].name if run.slices else "",
                local,
                ev.path,
                run_index,
                init,
                after_reset=after_reset,
            )
            after_reset = False
            model.segments.append(current)
        elif isinstance(ev, MediaSegmentEnded):
            current = None
        elif isinstance(ev, InitSegmentParsed):
            i, local = run.locate(ev.offset)
            model.inits.append(
                InitRecord(
                    run.slices[i].name if run.slices else "",
                    local,
                    run_index,
                    ev.init,
                    mime,
                    after_change_type and first_init,
                )
            )
            first_init = False
            init = ev.init


# --------------------------------------------------------------------------------------------------------
# Post-processing


def _finalize(
    findings: list[Finding], file_order: list[str], cap: int, *, spec: bool = False
) -> list[Finding]:
    if spec:  # the letter of the spec: what Chromium tolerates is still an append error
        findings = [
            f.replace(severity=Severity.ERROR)
            if f.rule in SPEC_ERRORS and f.severity == Severity.WARNING
            else f
            for f in findings
        ]
    order = {f: i for i, f in enumerate(file_order)}
    seen: set[tuple[str, str, int | None, str]] = set()
    unique: list[Finding] = []
    for f in findings:
        key = (f.rule, f.file, f.offset, f.message)
        # Findings about the declared type (no offset) may come from two stages in their own words: one
        # per rule and file is enough.
        loose = (f.rule, f.file, None, "") if f.offset is None else key
        if key in seen or loose in seen:
            continue
        seen.add(key)
        seen.add(loose)
        unique.append(f)
    unique.sort(
        key=lambda f: (
            order.get(f.file, len(order)),
            f.offset if f.offset is not None else -1,
            -f.severity.rank,
            f.rule,
        )
    )
    counts: dict[tuple[str, str], int] = {}
    kept: list[Finding] = []
    extra: dict[tuple[str, str], tuple[int, Finding]] = {}
    for f in unique:
        k = (f.rule, f.file)
        counts[k] = counts.get(k, 0) + 1
        if counts[k] <= cap:
            kept.append(f)
        else:
            n, first = extra.get(k, (0, f))
            extra[k] = (n + 1, first)
    for (rid, _file), (n, first) in extra.items():
        kept.append(
            Finding(
                rid,
                first.severity,
                f"... and {n} more {rid} finding{'s' if n > 1 else ''} in this file "
                f"(the first left out is at offset {first.offset})",
                first.file,
                first.offset,
                first.box,
                first.spec,
            )
        )
    kept.sort(
        key=lambda f: (
            order.get(f.file, len(order)),
            f.offset if f.offset is not None else -1,
            -f.severity.rank,
            f.rule,
        )
    )
    return kept


def _load_checker(fmt: str) -> Checker | None:
    ref = FORMATS[fmt].checker
    if not ref:
        return None
    try:
        fn = load(ref)
    except (ImportError, AttributeError):
        return None
    return fn if callable(fn) else None


# --------------------------------------------------------------------------------------------------------
# Public API


def _as_items(inputs: Sequence[ByteSource | StreamItem]) -> list[StreamItem]:
    out: list[StreamItem] = []
    for x in inputs:
        if isinstance(x, Slice | Reset):
            out.append(x)
        else:
            out.append(Slice(x))
    return out


Run = tuple[list[Slice], MimeType | None, str | None, str | None]


def _split_runs(items: list[StreamItem], declared: MimeType | None) -> list[Run]:
    """Cut the appends at resets; each run knows its declared type and what cut it on each side."""
    runs: list[Run] = []
    cur: list[Slice] = []
    cur_mime = declared
    reset_before: str | None = None
    for x in items:
        if isinstance(x, Reset):
            runs.append((cur, cur_mime, reset_before, x.kind))
            cur = []
            reset_before = x.kind
            if x.kind == "changeType":
                cur_mime = x.mime
        else:
            cur.append(x)
    runs.append((cur, cur_mime, reset_before, None))
    return runs


def _run_checker(checker: Checker, ctx: CheckContext, run_findings: list[Finding], fmt: str) -> None:
    """Add the checker's findings to the parser's. Where both name the same rule at the same byte, the
    parser's wording wins (it reads like the browser's log) and the checker's box path (indexed across the
    whole run) is kept."""
    try:
        said = {(f.rule, f.offset): i for i, f in enumerate(run_findings)}
        for f in checker(ctx):
            i = said.get((f.rule, f.offset))
            if i is None:
                run_findings.append(f)
            elif f.box:
                run_findings[i] = run_findings[i].replace(box=f.box)
    except UsageError:
        raise  # an input that became unreadable: the CLI's one-line I/O error, not a finding
    except Exception as e:
        run_findings.append(
            finding("GEN-INTERNAL-01", f"the {fmt} checker failed ({type(e).__name__}: {e})", offset=0)
        )


def validate_stream(
    inputs: Sequence[ByteSource | StreamItem],
    mime: MimeType | str | None = None,
    options: ValidateOptions | None = None,
) -> Validation:
    """Validate appends (files in append order, or a scenario's slices and resets) as one SourceBuffer's
    byte stream against the declared type (sniffed from the content when None)."""
    from msetool.rules import codecs as codec_rules
    from msetool.rules import timeline

    opts = options or ValidateOptions()
    items = _as_items(inputs)
    slices = [x for x in items if isinstance(x, Slice)]
    files = list(dict.fromkeys(s.name for s in slices))  # each name once, in order
    declared = parse_mime(mime) if isinstance(mime, str) else mime
    findings: list[Finding] = []
    model = StreamModel()

    runs = _split_runs(items, declared)
    undecodable: list[tuple[str, int, CodedFrame]] = []

    fmt_name: str | None = None
    state: dict[str, Any] = {}
    parser: ByteStreamParser | None = None
    parser_mime: MimeType | None = None
    parser_fed = 0
    checked_mime: MimeType | None = None
    prime = b""
    used_mime: MimeType | None = declared
    for ri, (run_slices, run_mime, before, after) in enumerate(runs):
        abort_after = after == "abort"
        if before == "changeType":
            parser, state, prime = None, {}, b""
        elif before == "abort" and parser is not None:
            with contextlib.suppress(Exception):
                parser.reset()
        if not run_slices:
            continue
        run = StreamSource(run_slices)
        if run_mime is not None and run_mime is not checked_mime:
            checked_mime = run_mime  # each declared type once, at the first file appended under it
            findings.extend(codec_rules.check_declared(run_mime, file=run_slices[0].name))
        if not any(run.sizes):
            for s in run_slices:
                findings.append(
                    finding("GEN-EMPTY-01", "zero-length input: nothing to append", file=s.name, offset=0)
                )
            continue
        for s, n in zip(run_slices, run.sizes, strict=True):
            if n == 0:
                findings.append(
                    finding("GEN-EMPTY-01", "zero-length input: nothing to append", file=s.name, offset=0)
                )
        eff_mime = run_mime
        sniffed = detect_mime(run_slices)
        if eff_mime is None:
            eff_mime = parser_mime or sniffed
            if eff_mime is None:
                first = next(s for s in run_slices if s.size)
                findings.append(
                    finding(
                        "GEN-DETECT-01",
                        "no MSE byte stream format starts like this (not ISO BMFF, WebM, MPEG-2 TS or MPEG "
                        "audio); "
                        "pass --type to say what it should be",
                        file=first.name,
                        offset=0,
                    )
                )
                continue
        fmt = format_of(eff_mime)
        if fmt is None:
            findings.append(
                finding(
                    "GEN-MIME-01",
                    f"'{eff_mime.essence}' is not a MSE byte stream format type "
                    "(video/mp4, audio/mp4, video/webm, audio/webm, video/mp2t, audio/mpeg, audio/aac)",
                    file=run_slices[0].name,
                    offset=None,
                )
            )
            continue
        fmt_name = fmt_name or fmt
        used_mime = used_mime or eff_mime
        if parser is not None and parser_mime is not None and format_of(parser_mime) != fmt:
            parser = None
        result, parser = _run_parser(
            run,
            mime=eff_mime,
            options=opts,
            parser=parser,
            prime=prime,
            flush=after in (None, "endOfStream"),
            fed=parser_fed,
        )
        parser_fed = result.fed
        parser_mime = eff_mime
        for o, fr in result.undecodable:
            i, local = run.locate(o)
            undecodable.append((run.slices[i].name, local, fr))
        if result.last_init is not None:
            prime = run.read_at(*result.last_init)
        run_findings = _event_findings(result.events)
        # (b) the format's static checker
        checker = _load_checker(fmt)
        if checker is not None:
            ctx = CheckContext(run, run_mime, result.events, opts, state, abort_after, tuple(run.starts))
            _run_checker(checker, ctx, run_findings, fmt)
        # relocate to files
        for f in run_findings:
            findings.append(_relocate(f, run))
        _build_model(
            model,
            events=result.events,
            run=run,
            run_index=ri,
            mime=run_mime,
            after_change_type=before == "changeType",
            after_reset=before == "abort",
        )

    findings.extend(_preroll_decode_errors(undecodable, model, opts))

    # (c) timeline rules and (d) codec rules on the model. The parser (or the checker) may already have
    # reported the same rule for the same file with its own wording and offset: keep that one.
    model_findings: list[Finding] = []
    try:
        model_findings.extend(timeline.check(model, opts))
    except Exception as e:
        model_findings.append(finding("GEN-INTERNAL-01", f"timeline rules failed ({type(e).__name__}: {e})"))
    try:
        model_findings.extend(codec_rules.check(model, declared))
    except Exception as e:
        model_findings.append(finding("GEN-INTERNAL-01", f"codec rules failed ({type(e).__name__}: {e})"))
    have = {(f.rule, f.file) for f in findings}
    findings.extend(f for f in model_findings if (f.rule, f.file) not in have)
    out = _finalize(
        [f if f.file or not files else f.replace(file=files[0]) for f in findings],
        files,
        opts.max_per_rule,
        spec=opts.profile == "spec",
    )
    return Validation(files, out, model, used_mime, fmt_name)


def _preroll_decode_errors(
    bad: list[tuple[str, int, CodedFrame]], model: StreamModel, opts: ValidateOptions
) -> list[Finding]:
    """GEN-DECODE-01 for the first reader-marked frame of each track that the paused element's preroll
    decodes: inside the first PREROLL_MS of the track's earliest frame, when that starts before 1 s. Only on
    the raw timeline (timestampOffset and sequence mode move the frames where validate cannot follow)."""
    if not bad or not opts.raw_timeline:
        return []
    from fractions import Fraction  # only here: importing it costs every run

    preroll = Fraction(PREROLL_MS, 1000)
    starts: dict[int, Fraction] = {}
    for seg in model.segments:
        for tid, sp in seg.tracks.items():
            if sp.timescale and sp.count:
                t = Fraction(sp.min_pts, sp.timescale)
                if tid not in starts or t < starts[tid]:
                    starts[tid] = t
    video = {t.track_id for r in model.inits for t in r.init.tracks if t.kind == "video"}
    out: list[Finding] = []
    done: set[int] = set()
    for file, offset, f in bad:
        start = starts.get(f.track_id)
        if f.track_id in done or start is None or not f.timescale:
            continue
        # the video renderer prerolls kMaxVideoFrames (4) frames, the audio renderer about 200 ms
        depth = Fraction(VIDEO_PREROLL_FRAMES * f.duration, f.timescale) if f.track_id in video else preroll
        if start < SEEK_TO_START_FUDGE and start <= f.pts_s < start + depth:
            done.add(f.track_id)
            out.append(
                finding(
                    "GEN-DECODE-01",
                    f"track {f.track_id}: the frame at {float(f.pts_s):.3f} s, which the paused element "
                    f"decodes before playback starts, cannot be decoded ({f.decode_error}): the media "
                    "element "
                    "fails with PIPELINE_ERROR_DECODE",
                    file=file,
                    offset=offset,
                )
            )
    return out


def _relocate(f: Finding, run: StreamSource) -> Finding:
    if f.file:
        return f
    if f.offset is None:
        return f.replace(file=run.slices[0].name if run.slices else "")
    i, local = run.locate(f.offset)
    return f.replace(file=run.slices[i].name, offset=local)


def init_segments(sources: Sequence[ByteSource], mime: MimeType | str | None = None) -> list[InitSegment]:
    """The init segments a parser finds in ``sources`` (for ``msetool codecs``); sniffs the format."""
    declared = parse_mime(mime) if isinstance(mime, str) else mime
    items = [Slice(s) for s in sources]
    eff = declared or detect_mime(items)
    if eff is None:
        return []
    parser = _new_parser(eff, "chromium")
    if parser is None:
        return []
    out: list[InitSegment] = []
    for sl in items:
        pos = 0
        while pos < sl.size:
            data = sl.source.read_at(pos, min(4 * 1024 * 1024, sl.size - pos))
            if not data:
                break
            pos += len(data)
            try:
                evs = parser.feed(data)
            except Exception:
                return out
            for ev in evs:
                if isinstance(ev, InitSegmentParsed):
                    out.append(ev.init)
                if isinstance(ev, ParseFailed):
                    return out
    return out
