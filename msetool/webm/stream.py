"""WebM segment parser for the simulator: a sans-IO state machine fed appended bytes.

It follows the shape of Chromium's WebMStreamParser/WebMClusterParser (media/formats/webm/), because the
spec leaves the details to the implementation and the oracle is Chromium:

* Headers state: top-level elements are read one at a time. EBML, SeekHead, Void, CRC-32, Cues, Chapters,
  Tags and Attachments are skipped once complete; a Segment header is consumed (its size ignored; unknown
  is allowed); Info must be followed directly by Tracks and both are parsed only when complete
  (all-or-nothing), giving an init segment. A Cluster before any Info fails the append ("Found Cluster
  element before Info."); any other element fails it too ("Unexpected element ID 0x..").
* Clusters state: the Cluster is parsed incrementally as a list of elements; leaves (SimpleBlock, Block,
  Timestamp, ...) are handled once complete. A Cluster of unknown size ends when an element that can only
  be a sibling or ancestor (a Segment child, Segment, EBML) starts.
* Frames are emitted as soon as their duration is known (see segments.ClusterAssembler): a block without a
  duration is held back until the next block of its track, and every frame at or after the earliest
  held-back one waits too, so frames leave in timestamp order across tracks.

Whatever the cut points of the appends, the same frames come out in the same order; only how they are
grouped into FramesParsed events follows the appends (as Chromium's batches do).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import msetool.rules.webm  # noqa: F401  (registers the WEBM-* rule ids ParseFailed events name)
from msetool.mime import MimeType
from msetool.model import CodedFrame
from msetool.stream import (
    FramesParsed,
    InitSegmentParsed,
    MediaSegmentEnded,
    MediaSegmentStarted,
    ParseFailed,
    ParserEvent,
    Profile,
)
from msetool.webm import schema as S
from msetool.webm.ebml import EbmlError, parse_header
from msetool.webm.segments import (
    TRACK_TYPE_AUDIO,
    TRACK_TYPE_VIDEO,
    ClusterAssembler,
    PendingFrame,
    SegmentError,
    WebmInit,
    check_track_config,
    opus_head_problem,
    parse_block_header,
    parse_info,
    parse_tracks,
    to_init_segment,
)

_HEADERS, _CLUSTERS, _ERROR = 0, 1, 2

_Kind = Literal["list", "uint", "binary", "skip"]

#: Children Chromium's cluster parser accepts per list (webm_parser.cc tables); Void and CRC-32 anywhere.
_CLUSTER_CHILDREN: dict[int, dict[int, _Kind]] = {
    S.CLUSTER: {S.SIMPLE_BLOCK: "binary", S.TIMECODE: "uint", 0x5854: "skip", 0xA7: "skip", 0xAB: "uint",
                S.BLOCK_GROUP: "list"},
    S.BLOCK_GROUP: {S.BLOCK: "binary", S.BLOCK_ADDITIONS: "list", S.BLOCK_DURATION: "uint", 0xFA: "skip",
                    S.REFERENCE_BLOCK: "binary", 0xA4: "skip", S.DISCARD_PADDING: "binary", 0x8E: "skip"},
    S.BLOCK_ADDITIONS: {S.BLOCK_MORE: "list"},
    S.BLOCK_MORE: {S.BLOCK_ADD_ID: "uint", S.BLOCK_ADDITIONAL: "binary"},
}

_ERR = "WEBM-EBML-01"
#: Leaves larger than this are not buffered whole while incomplete (see _start_pending): only their first
#: bytes are kept and the rest is dropped as it comes, or skipped unread by validate's fast path (skip()).
#: Small, so that the fast path skips most block payloads; buffering smaller leaves whole is cheaper.
_PENDING_MIN = 1024
#: The most a block's reader looks at: header (track number, timecode, flags) and first frame bytes (the
#: Opus TOC byte, a VP9 frame's uncompressed-header bits the decode check reads).
_BLOCK_HEAD = 16
#: An element header is at most 4 ID bytes and 8 size bytes.
_MAX_HEADER = 12
#: The fast path reads at least this much at a time (small elements come together).
_MIN_READ = 64


class _Fail(Exception):
    def __init__(self, message: str, offset: int, path: str = "", rule: str = _ERR) -> None:
        self.message = message
        self.offset = offset
        self.path = path
        self.rule = rule
        super().__init__(message)


class _List:
    __slots__ = ("hlen", "id", "parsed", "size", "start")

    def __init__(self, eid: int, size: int | None, start: int, hlen: int) -> None:
        self.id = eid
        self.size = size
        self.parsed = 0
        self.start = start
        self.hlen = hlen


class WebmStreamParser:
    """ByteStreamParser for ``video/webm`` and ``audio/webm``."""

    generate_timestamps = False

    def __init__(self, mime: MimeType | None = None, profile: Profile = "chromium") -> None:
        self.mime = mime
        self.profile: Profile = profile
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._state = _HEADERS
        self._init: WebmInit | None = None
        self._asm: ClusterAssembler | None = None
        self._stack: list[_List] = []
        self._clusters = 0
        self._counts: dict[str, int] = {}
        self._unknown_segment_size = False
        #: Where the current init segment started (its EBML header or Segment header), for offsets.
        self._init_start: int | None = None
        #: Bytes still to drop (-1: forever) and the large leaf they belong to, if any.
        self._skip = 0
        self._pending: tuple[int, _Kind, bytes, int, int, int] | None = None
        #: chromium profile: VP9 tracks whose frame headers are checked, and block offset -> why libvpx
        #: cannot decode that block's frame (CodedFrame.decode_error)
        self._vp9_tracks: set[int] = set()
        self._undecodable: dict[int, str] = {}
        self._new_group()

    # ---------------------------------------------------------------------------------- protocol
    @property
    def in_media_segment(self) -> bool:
        return self._state == _CLUSTERS

    def reset(self) -> None:
        """Reset parser state (abort()): buffered bytes and the partial Cluster go; the init stays."""
        if self._state == _ERROR:
            return
        self._buf.clear()
        self._stack = []
        self._init_start = None
        self._skip = 0
        self._pending = None
        self._new_group()
        if self._asm is not None:
            self._asm.reset()
        self._state = _HEADERS

    def flush(self) -> list[ParserEvent]:
        """End of stream. Chromium never completes an open unknown-size Cluster (its held-back last
        blocks are lost); the spec profile ends it here, as the end of the byte stream ends the Cluster."""
        if self.profile != "spec" or self._state != _CLUSTERS or self._asm is None:
            return []
        if not self._stack or self._stack[0].size is not None:
            return []
        events: list[ParserEvent] = []
        top = self._stack[0]
        try:
            self._end_cluster(top.start + top.hlen + top.parsed, events)
        except _Fail as f:
            events.append(ParseFailed(f.message, f.offset, f.path, f.rule))
            self._state = _ERROR
        return events

    def feed(self, data: bytes) -> list[ParserEvent]:
        if self._state == _ERROR:
            return []
        self._buf += data
        events: list[ParserEvent] = []
        pos = 0
        try:
            while pos < len(self._buf):
                if self._skip:
                    if self._skip < 0:  # an element that never ends: nothing more can happen
                        pos = len(self._buf)
                        break
                    n = min(self._skip, len(self._buf) - pos)
                    self._skip -= n
                    pos += n
                    if self._skip == 0 and self._pending is not None:
                        self._finish_pending(events)
                    continue
                state = self._state
                if state == _HEADERS:
                    n = self._parse_headers(pos, events)
                else:
                    n = self._parse_cluster(pos, events)
                if n == 0 and self._state == state:
                    break
                pos += n
        except _Fail as f:
            if self.profile == "chromium":
                # WebMStreamParser::ParseCluster hands a Cluster's frames on only when its parse call
                # succeeds: the frames this feed completed in the failing Cluster are never buffered
                mark = max((i + 1 for i, e in enumerate(events)
                            if isinstance(e, (MediaSegmentStarted, MediaSegmentEnded))), default=0)
                events = events[:mark] + [e for e in events[mark:] if not isinstance(e, FramesParsed)]
            events.append(ParseFailed(f.message, f.offset, f.path, f.rule))
            self._state = _ERROR
            self._buf.clear()
            return events
        del self._buf[:pos]
        self._base += pos
        return events

    # ------------------------------------------------------------------------- validate fast path
    def skippable(self) -> int:
        """How many of the next bytes nothing reads (the rest of a block payload beyond its first bytes, a
        large Void/Cues/...); :meth:`skip` advances past them with the events feeding them would give."""
        if self._state == _ERROR or self._buf or not self._skip:
            return 0
        return self._skip if self._skip > 0 else 1 << 62

    def skip(self, n: int) -> list[ParserEvent]:
        """Advance past ``n`` bytes without their values (at most :meth:`skippable`)."""
        if self._state == _ERROR or n <= 0:
            return []
        if n > self.skippable():
            raise ValueError(f"cannot skip {n} bytes here")
        self._base += n
        if self._skip < 0:
            return []
        self._skip -= n
        events: list[ParserEvent] = []
        if self._skip == 0 and self._pending is not None:
            try:
                self._finish_pending(events)
            except _Fail as f:
                events.append(ParseFailed(f.message, f.offset, f.path, f.rule))
                self._state = _ERROR
                self._buf.clear()
        return events

    def wanted(self) -> int:
        """How many more bytes the parser needs before it decides anything (0: no idea, feed a chunk):
        the next element header, and of a large leaf only its first bytes (the rest is then skippable)."""
        if self._state == _ERROR or self._skip:
            return 0
        have = len(self._buf)
        try:
            h = parse_header(self._buf, 0, None, self._base)
        except EbmlError:
            return 0  # the feed reports it
        if h is None:
            return max(_MIN_READ, _MAX_HEADER + _BLOCK_HEAD) - have
        if h.size is None:
            if self._state == _HEADERS and h.id not in S.SKIPPABLE_TOP_LEVEL:
                return max(1, _MIN_READ - have)
            return 0
        if self._state == _HEADERS and h.id in (S.SEGMENT, S.CLUSTER):
            return max(1, _MIN_READ - have)
        need = h.header_size + h.size
        if self._state == _HEADERS and h.id == S.INFO:  # Info and the Tracks after it, whole
            try:
                t = parse_header(self._buf, need, None, self._base)
            except EbmlError:
                return 0
            if t is None:
                return max(need + _MAX_HEADER, _MIN_READ) - have
            if t.size is None:
                return 0
            need += t.header_size + t.size
            return max(need, _MIN_READ) - have if need > have else 0
        if self._state == _CLUSTERS and self._stack and h.id in (S.BLOCK_GROUP, S.BLOCK_ADDITIONS,
                                                                 S.BLOCK_MORE):
            need = h.header_size  # a list: its children come one by one
        elif need > h.header_size + _PENDING_MIN:
            need = h.header_size + _BLOCK_HEAD  # the parser keeps the first bytes, the rest is skipped
        # enough bytes but still waiting: the parser needs the whole leaf (a laced block), feed a chunk
        return max(need, _MIN_READ) - have if need > have else 0

    # ----------------------------------------------------------------------------------- headers
    def _header(self, pos: int, end: int | None = None) -> tuple[int, int | None, int] | None:
        try:
            h = parse_header(self._buf, pos, end, self._base)
        except EbmlError as e:
            raise _Fail(e.reason, e.offset) from None
        return None if h is None else (h.id, h.size, h.header_size)

    def _parse_headers(self, pos: int, events: list[ParserEvent]) -> int:
        hdr = self._header(pos)
        if hdr is None:
            return 0
        eid, size, hlen = hdr
        avail = len(self._buf) - pos
        off = self._base + pos
        if eid in S.SKIPPABLE_TOP_LEVEL:
            if eid == S.EBML:
                self._init_start = off
            if size is None:
                self._skip = -1  # Chromium waits for its end forever
                return avail
            if avail < hlen + size:
                if hlen + size <= _PENDING_MIN:
                    return 0
                self._skip = hlen + size - avail  # skipped anyway: drop the bytes as they come
                return avail
            return hlen + size
        if eid == S.CLUSTER:
            if self._asm is None:
                raise _Fail("Found Cluster element before Info.", off, "Cluster", "WEBM-INIT-03")
            self._state = _CLUSTERS
            self._init_start = None
            self._clusters += 1
            self._counts = {}
            events.append(MediaSegmentStarted(off, self._cluster_path()))
            return 0
        if eid == S.SEGMENT:
            if size is None:
                self._unknown_segment_size = True
            if self._init_start is None:
                self._init_start = off
            return hlen
        if eid != S.INFO:
            raise _Fail(f"Unexpected element ID 0x{eid:x}", off, S.name_of(eid), "WEBM-INIT-04")
        if size is None:
            raise _Fail("Info has unknown size", off, "Segment/Info", "WEBM-EBML-01")
        if avail < hlen + size:
            return 0
        tpos = pos + hlen + size
        thdr = self._header(tpos)
        if thdr is None:
            return 0
        tid, tsize, thlen = thdr
        if tid != S.TRACKS:
            raise _Fail(f"{S.name_of(tid)} follows Info where Tracks must", self._base + tpos,
                        f"Segment/{S.name_of(tid)}", "WEBM-INIT-03")
        if tsize is None:
            raise _Fail("Tracks has unknown size", self._base + tpos, "Segment/Tracks", "WEBM-EBML-01")
        if len(self._buf) - tpos < thlen + tsize:
            return 0
        start = off if self._init_start is None else self._init_start
        self._init_start = None
        init = WebmInit(offset=start, size=self._base + tpos + thlen + tsize - start)
        try:
            parse_info(self._buf, pos + hlen, pos + hlen + size, self._base, init)
            parse_tracks(self._buf, tpos + thlen, tpos + thlen + tsize, self._base, init)
            seen: set[int] = set()
            refused: dict[int, str] = {}
            for i, t in enumerate(init.tracks):
                if t.type in (TRACK_TYPE_AUDIO, TRACK_TYPE_VIDEO) and t.type not in seen:
                    seen.add(t.type)
                    problem = opus_head_problem(t)
                    if problem is not None:
                        # valid byte stream, but Chromium's decoder refuses the configuration once the
                        # pipeline starts (the append succeeds): TrackInfo.decode_error, not a ParseFailed
                        refused[t.number] = problem
                    checked = t if problem is None else replace(t, codec_private=b"")
                    check_track_config(checked, f"Segment/Tracks/TrackEntry[{i + 1}]")
        except SegmentError as e:
            raise _Fail(e.chromium or e.reason, e.offset, e.path, e.rule or "WEBM-EBML-01") from None
        self._init = init
        self._asm = ClusterAssembler(init, self.profile)
        self._vp9_tracks = {t.number for t in init.tracks if t.codec_id == "V_VP9" and not t.encryption_key_id
                            and self.profile == "chromium"}
        seg = to_init_segment(init, self.profile)
        if refused and self.profile == "chromium":
            marked = tuple(ti.replace(decode_error=refused.get(ti.track_id)) for ti in seg.tracks)
            seg = seg.replace(tracks=marked)
        events.append(InitSegmentParsed(seg, start))
        return tpos + thlen + tsize - pos

    # ----------------------------------------------------------------------------------- clusters
    def _cluster_path(self) -> str:
        return f"Segment/Cluster[{self._clusters}]"

    def _child_path(self, name: str) -> str:
        n = self._counts.get(name, 0) + 1
        self._counts[name] = n
        return f"{self._cluster_path()}/{name}[{n}]"

    def _new_group(self) -> None:
        self._g_block: bytes | None = None
        self._g_block_off = 0
        self._g_duration: int | None = None
        self._g_reference = False
        self._g_padding = False
        self._g_additional = False
        self._g_add_id = False
        self._g_path = ""

    def _parse_cluster(self, pos: int, events: list[ParserEvent]) -> int:
        assert self._asm is not None
        start = pos
        end = len(self._buf)
        ended = False
        while pos < end and not ended:
            hdr = self._header(pos)
            if hdr is None:
                break
            eid, size, hlen = hdr
            off = self._base + pos
            if not self._stack:
                # NEED_LIST_HEADER: the headers state only hands over at a Cluster.
                self._stack.append(_List(eid, size, off, hlen))
                self._asm.start_cluster()
                pos += hlen
                if size == 0:
                    ended = self._close_lists(events)
                continue
            cur = self._stack[-1]
            kind: _Kind | None = _CLUSTER_CHILDREN[cur.id].get(eid)
            if kind is None and eid in (S.VOID, S.CRC32):
                kind = "skip"
            if kind is None:
                if cur.size is None and cur.id == S.CLUSTER and (
                        eid in S.SEGMENT_CHILDREN or eid in (S.SEGMENT, S.EBML)):
                    cur.size = cur.parsed
                    ended = self._close_lists(events)
                    break
                raise _Fail(f"{S.name_of(eid)} (0x{eid:X}) is not allowed in {S.name_of(cur.id)}", off,
                            f"{self._cluster_path()}/{S.name_of(eid)}", "WEBM-EBML-02")
            if cur.size is not None and (size is None or cur.size < cur.parsed + hlen + size):
                raise _Fail(f"{S.name_of(eid)} overruns its parent {S.name_of(cur.id)}", off,
                            f"{self._cluster_path()}/{S.name_of(eid)}", "WEBM-EBML-01")
            if kind == "list":
                cur.parsed += hlen
                self._list_start(eid, off)
                self._stack.append(_List(eid, size, off, hlen))
                pos += hlen
                if size == 0:
                    ended = self._close_lists(events)
                continue
            if size is None:
                # Chromium waits for an unknown-size leaf forever: swallow the rest of the stream.
                self._skip = -1
                pos = end
                break
            if end - pos < hlen + size:
                pending = self._start_pending(eid, kind, pos + hlen, size, off=off, end=end)
                if pending:
                    pos = end
                break  # wait for the whole leaf
            self._leaf(eid, kind, self._leaf_data(eid, kind, pos + hlen, size), size, off)
            pos += hlen + size
            cur.parsed += hlen + size
            if cur.size is not None and cur.parsed == cur.size:
                ended = self._close_lists(events)
        if not ended:
            ready = self._asm.ready()
            if ready:
                ts = self._asm.timescale
                events.append(FramesParsed(self._frames(ready, ts)))
        return pos - start

    def _list_start(self, eid: int, off: int) -> None:
        if eid == S.BLOCK_GROUP:
            self._new_group()
            self._g_path = self._child_path("BlockGroup")
            self._g_block_off = off
        elif eid == S.BLOCK_ADDITIONS:
            self._g_add_id = False

    def _leaf(self, eid: int, kind: _Kind, data: bytes, size: int, off: int) -> None:
        """A complete leaf element; ``data`` is its payload, or for large binary leaves the first bytes
        (a _SizedHead reporting the full size)."""
        assert self._asm is not None
        if kind == "skip":
            return
        if kind == "uint":
            if size == 0 or size > 8:
                raise _Fail(f"{S.name_of(eid)} is {size} bytes (an unsigned integer needs 1-8)", off,
                            f"{self._cluster_path()}/{S.name_of(eid)}", "WEBM-EBML-01")
            value = int.from_bytes(data[:size], "big")
            if value >= 1 << 63:
                raise _Fail(f"{S.name_of(eid)} value out of range", off, self._cluster_path(), "WEBM-EBML-01")
            if eid == S.TIMECODE:
                try:
                    self._asm.set_timecode(value, off)
                except SegmentError as e:
                    raise _Fail(e.reason, off, f"{self._cluster_path()}/Timestamp", "WEBM-MEDIA-03") from None
            elif eid == S.BLOCK_DURATION:
                if self._g_duration is not None:
                    raise _Fail("more than one BlockDuration in a BlockGroup", off, self._g_path,
                                "WEBM-EBML-02")
                self._g_duration = value
            elif eid == S.BLOCK_ADD_ID:
                if self._g_add_id:
                    raise _Fail("more than one BlockAddID in a BlockMore", off, self._g_path, "WEBM-EBML-02")
                self._g_add_id = True
            return
        # binary
        if eid == S.SIMPLE_BLOCK:
            self._block(data, off, self._child_path("SimpleBlock"),
                        simple=True, duration=None, reference=False)
        elif eid == S.BLOCK:
            if self._g_block is not None:
                raise _Fail("More than 1 Block in a BlockGroup is not supported.", off, self._g_path,
                            "WEBM-MEDIA-08")
            self._g_block = data
            self._g_block_off = off
        elif eid == S.BLOCK_ADDITIONAL:
            if self._g_additional:
                raise _Fail("More than 1 BlockAdditional in a BlockGroup is not supported.", off,
                            self._g_path, "WEBM-MEDIA-08")
            self._g_additional = True
        elif eid == S.DISCARD_PADDING:
            if self._g_padding or size == 0 or size > 8:
                raise _Fail("invalid or repeated DiscardPadding", off, self._g_path, "WEBM-EBML-02")
            self._g_padding = True
        elif eid == S.REFERENCE_BLOCK:
            self._g_reference = True

    def _leaf_data(self, eid: int, kind: _Kind, p: int, size: int) -> bytes:
        if kind == "binary" and eid in (S.SIMPLE_BLOCK, S.BLOCK):
            return self._block_bytes(p, size)
        if kind == "skip" or size > 64:
            return _SizedHead(bytes(self._buf[p : p + min(size, 16)]), size)
        return bytes(self._buf[p : p + size])

    def _start_pending(self, eid: int, kind: _Kind, p: int, size: int, *, off: int, end: int) -> bool:
        """For a large incomplete leaf, keep only what its reader needs and consume the bytes as they come
        (memory stays constant however large the element). False: keep buffering (small or laced)."""
        if size <= _PENDING_MIN:
            return False
        need = min(size, 16)
        if end - p < need:
            return False
        head = bytes(self._buf[p : p + need])
        if kind == "binary" and eid in (S.SIMPLE_BLOCK, S.BLOCK):
            hdr = parse_block_header(head)
            if hdr is not None and hdr.lacing and self.profile == "spec":
                return False  # lace sizes need the whole block
        self._pending = (eid, kind, _SizedHead(head, size), size, off, p - (off - self._base))
        self._skip = p + size - end
        return True

    def _finish_pending(self, events: list[ParserEvent]) -> None:
        """The pending leaf's last byte arrived: handle it as if it had come in one piece."""
        assert self._pending is not None and self._asm is not None
        eid, kind, data, size, off, hlen = self._pending
        self._pending = None
        self._leaf(eid, kind, data, size, off)
        cur = self._stack[-1]
        cur.parsed += hlen + size
        ended = cur.size is not None and cur.parsed == cur.size and self._close_lists(events)
        if not ended:
            ready = self._asm.ready()
            if ready:
                ts = self._asm.timescale
                events.append(FramesParsed(self._frames(ready, ts)))

    def _block_bytes(self, p: int, size: int) -> bytes:
        """What a block's reader needs: its header and first payload bytes, or all of it when laced
        (lace sizes are spread over the payload). Large video payloads are never copied."""
        head = bytes(self._buf[p : p + min(size, 16)])
        hdr = parse_block_header(head)
        if hdr is not None and hdr.lacing and size > 16:
            return bytes(self._buf[p : p + size])
        return _SizedHead(head, size)

    def _block(self, data: bytes, off: int, path: str, *, simple: bool, duration: int | None,
               reference: bool) -> None:
        assert self._asm is not None
        size = len(data)
        if size < 4:
            raise _Fail(f"block of {size} bytes is shorter than a block header", off, path, "WEBM-MEDIA-08")
        if self.profile == "chromium" and not data[0] & 0x80:
            raise _Fail("TrackNumber over 127 not supported", off, path, "WEBM-MEDIA-08")
        hdr = parse_block_header(data[:16])
        if hdr is None:
            raise _Fail("unreadable block header", off, path, "WEBM-EBML-01")
        if hdr.track in self._vp9_tracks and not hdr.lacing:
            problem = vp9_frame_problem(bytes(data[hdr.header_size : 16]))
            if problem is not None:
                self._undecodable[off] = problem
        try:
            self._asm.block(hdr, data, off, simple=simple, block_duration=duration, reference=reference,
                            path=path)
        except SegmentError as e:
            raise _Fail(e.chromium or e.reason, e.offset, e.path or path, e.rule or "WEBM-MEDIA-08") from None

    def _frames(self, pending: list[PendingFrame], ts: int) -> list[CodedFrame]:
        frames = [f.frame(ts) for f in pending]
        if self._undecodable:
            bad = self._undecodable
            frames = [f.replace(decode_error=bad.pop(f.offset)) if f.offset in bad else f for f in frames]
        return frames

    def _close_lists(self, events: list[ParserEvent]) -> bool:
        """Pop every list whose bytes are all parsed (as WebMListParser::OnListEnd); True: Cluster ended."""
        while self._stack:
            top = self._stack[-1]
            if top.size is None or top.parsed != top.size:
                return False
            self._stack.pop()
            if self._stack:
                self._stack[-1].parsed += top.parsed
            if top.id == S.BLOCK_GROUP:
                self._group_end(top.start)
            elif top.id == S.CLUSTER:
                self._end_cluster(top.start + top.hlen + top.parsed, events)
                return True
        return False

    def _group_end(self, off: int) -> None:
        if self._g_block is None:
            raise _Fail("Block missing from BlockGroup.", off, self._g_path, "WEBM-MEDIA-08")
        self._block(self._g_block, self._g_block_off, self._g_path + "/Block",
                    simple=False, duration=self._g_duration, reference=self._g_reference)
        self._new_group()

    def _end_cluster(self, off: int, events: list[ParserEvent]) -> None:
        assert self._asm is not None
        try:
            frames = self._asm.end_cluster(off)
        except SegmentError as e:
            raise _Fail(e.reason, off, self._cluster_path(), e.rule or "WEBM-MEDIA-03") from None
        if frames:
            ts = self._asm.timescale
            events.append(FramesParsed(self._frames(frames, ts)))
        self._stack = []
        self._state = _HEADERS
        events.append(MediaSegmentEnded(off))


def vp9_frame_problem(payload: bytes) -> str | None:
    """Why libvpx refuses a VP9 frame from its first bytes (read_uncompressed_header), or None.

    Every frame starts with frame_marker 2; a keyframe then carries the sync code 0x49 0x83 0x42. A block
    whose payload fails either is valid WebM, but Chromium's decoder fails on it (PIPELINE_ERROR_DECODE,
    measured in Chromium 156 on a Cluster of randomised VP9 payloads)."""
    if not payload:
        return None
    bits = int.from_bytes(payload[:8].ljust(8, b"\0"), "big")
    n = min(len(payload), 8) * 8

    def read(pos: int, count: int) -> int:
        return (bits >> (64 - pos - count)) & ((1 << count) - 1)

    if read(0, 2) != 2:
        return "VP9 frame_marker is not 2 (libvpx: Invalid frame marker)"
    pos = 4
    if read(2, 1) == 1 and read(3, 1) == 1:  # profile 3: a reserved zero bit
        if read(4, 1):
            return "VP9 profile 3 reserved bit set (libvpx: Unsupported bitstream profile)"
        pos = 5
    if read(pos, 1):  # show_existing_frame
        return None
    if read(pos + 1, 1) == 0 and pos + 4 + 24 <= n and read(pos + 4, 24) != 0x498342:  # key frame
        return "VP9 key frame without the sync code 49 83 42 (libvpx: Invalid frame sync code)"
    return None


class _SizedHead(bytes):
    """The first bytes of a block that reports the block's full length (the payload is never copied)."""

    _full: int

    def __new__(cls, head: bytes, full: int) -> _SizedHead:
        obj = super().__new__(cls, head)
        obj._full = full
        return obj

    def __len__(self) -> int:
        return self._full
