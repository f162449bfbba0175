"""WebM init and media segments -> the format-neutral segment model.

Init segment (WebM byte stream format §init-segments): EBML header + Segment header + Info + Tracks. Info
gives TimestampScale (the spec's TimecodeScale, default 1 000 000 ns) and Duration; each TrackEntry gives
TrackNumber, TrackType, CodecID, CodecPrivate, CodecDelay, SeekPreRoll and DefaultDuration.

Media segment (§media-segments): one Cluster. Its Timestamp must come before any block; each SimpleBlock or
BlockGroup/Block carries a track number, a signed 16-bit timecode relative to the Cluster and flags.
WebM has no decode timestamps: DTS = PTS.

Frame durations follow Chromium's webm_cluster_parser.cc because WebM blocks usually carry none: an Opus
packet's duration from its TOC byte (RFC 6716 §3.1) beats BlockDuration, which beats the track's
DefaultDuration; a block with none of these waits for the next block of its track and takes the timestamp
delta; the last such block of a Cluster gets an estimate (the largest duration seen on the track, else
23 ms audio / 63 ms video). :class:`ClusterAssembler` implements that once for both the stream parser and
the file validator.

Time units: the ``chromium`` profile works in whole microseconds computed the way Chromium computes them
(double multiply, truncation), so timescale = 1 000 000. The ``spec`` profile keeps exact nanoseconds
(timescale = 1 000 000 000) because Opus TOC durations (2.5 ms steps) and DefaultDurations (e.g. 33 333 333
ns) are not whole ticks of a 1 ms TimecodeScale.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from msetool.model import CodedFrame, InitSegment, TrackInfo, TrackKind
from msetool.webm import schema as S
from msetool.webm.ebml import Buffer, EbmlError, parse_header, read_float, read_string, read_uint

Profile = Literal["spec", "chromium"]

DEFAULT_TIMECODE_SCALE = 1_000_000
#: Chromium's fallback estimates for a Cluster's last block (webm_cluster_parser.h).
DEFAULT_AUDIO_DURATION_MS = 23
DEFAULT_VIDEO_DURATION_MS = 63
#: Opus frame duration in µs per TOC config (RFC 6716 §3.1, table 2).
OPUS_FRAME_US = (
    10000, 20000, 40000, 60000, 10000, 20000, 40000, 60000, 10000, 20000, 40000, 60000,
    10000, 20000, 10000, 20000, 2500, 5000, 10000, 20000, 2500, 5000, 10000, 20000,
    2500, 5000, 10000, 20000, 2500, 5000, 10000, 20000,
)  # fmt: skip

TRACK_TYPE_VIDEO = 1
TRACK_TYPE_AUDIO = 2
TRACK_TYPE_SUBTITLE = 0x11
TRACK_TYPE_METADATA = 0x21


class SegmentError(Exception):
    """A structural or value problem, located; ``chromium`` is Chromium's media log text when known."""

    def __init__(self, reason: str, offset: int, path: str = "", chromium: str = "", rule: str = "") -> None:
        self.reason = reason
        self.offset = offset
        self.path = path
        self.chromium = chromium
        self.rule = rule
        super().__init__(reason)


# --------------------------------------------------------------------------------------------- elements
def children(buf: Buffer, start: int, end: int, base: int = 0) -> Iterator[tuple[int, int, int, int]]:
    """(id, element offset, payload start, payload end) of each child in ``buf[start:end]`` (known sizes).

    Raises SegmentError when a header is malformed, cut short or overruns ``end``.
    """
    pos = start
    while pos < end:
        try:
            h = parse_header(buf, pos, end, base)
        except EbmlError as e:
            raise SegmentError(e.reason, e.offset) from None
        if h is None:
            raise SegmentError("element header cut short", base + pos)
        if h.size is None:
            raise SegmentError(f"{S.name_of(h.id)} has unknown size (only Segment and Cluster may)",
                               base + pos)
        pstart = pos + h.header_size
        pend = pstart + h.size
        if pend > end:
            raise SegmentError(f"{S.name_of(h.id)} of {h.size} bytes overruns its parent", base + pos)
        yield h.id, pos, pstart, pend
        pos = pend


# ------------------------------------------------------------------------------------------- init segment
@dataclass(slots=True)
class WebmTrack:
    """A TrackEntry as stored, before it becomes a :class:`TrackInfo`."""

    number: int = -1
    type: int = -1
    codec_id: str = ""
    codec_private: bytes = b""
    codec_delay: int | None = None  # ns
    seek_preroll: int | None = None  # ns
    default_duration: int | None = None  # ns
    name: str = ""
    language: str = "eng"
    width: int = -1
    height: int = -1
    sampling_frequency: float = -1.0
    channels: int = -1
    bits_per_channel: int | None = None
    encryption_key_id: bytes = b""
    flag_lacing: int = 1
    offset: int = 0


@dataclass(slots=True)
class WebmInit:
    """Info + Tracks of one init segment, plus what the cluster reader needs from them."""

    timecode_scale: int = DEFAULT_TIMECODE_SCALE
    duration: float | None = None  # in TimecodeScale units
    date_utc: int | None = None
    tracks: list[WebmTrack] = field(default_factory=list)
    offset: int = 0
    size: int = 0

    def duration_seconds(self, profile: Profile = "chromium") -> Fraction | None:
        """Duration × TimecodeScale when > 0: truncated to µs as Chromium does (webm_stream_parser.cc),
        exact in the spec profile."""
        if self.duration is None or not self.duration > 0 or not math.isfinite(self.duration):
            return None
        if profile == "spec":
            return Fraction(self.duration) * self.timecode_scale / 1_000_000_000
        scaled = self.duration * (self.timecode_scale / 1000.0)
        if not scaled < 2**63:
            return None
        return Fraction(int(scaled), 1_000_000)


def _dup(seen: set[int], eid: int, off: int, parent: str) -> None:
    if eid in seen:
        raise SegmentError(f"multiple {S.name_of(eid)} elements in {parent}", off,
                           chromium=f"Multiple values for id {eid:x} specified")
    seen.add(eid)


def parse_info(buf: Buffer, start: int, end: int, base: int, init: WebmInit) -> None:
    """Info payload ``buf[start:end]``."""
    seen: set[int] = set()
    for eid, off, ps, pe in children(buf, start, end, base):
        try:
            if eid == 0x2AD7B1:
                _dup(seen, eid, base + off, "Info")
                init.timecode_scale = read_uint(buf[ps:pe])
                if init.timecode_scale <= 0:
                    raise SegmentError("TimestampScale is 0", base + off, "Segment/Info/TimestampScale")
            elif eid == 0x4489:
                _dup(seen, eid, base + off, "Info")
                if pe - ps not in (4, 8):
                    raise SegmentError(f"Duration is {pe - ps} bytes (must be 4 or 8)", base + off,
                                       "Segment/Info/Duration")
                init.duration = read_float(buf[ps:pe])
            elif eid == 0x4461:
                if pe - ps != 8:
                    raise SegmentError("DateUTC must be 8 bytes", base + off, "Segment/Info/DateUTC")
                init.date_utc = int.from_bytes(buf[ps:pe], "big", signed=True)
        except ValueError as e:
            raise SegmentError(str(e), base + off, f"Segment/Info/{S.name_of(eid)}") from None


def _parse_video(buf: Buffer, ps: int, pe: int, base: int, t: WebmTrack) -> None:
    for vid, _voff, vps, vpe in children(buf, ps, pe, base):
        if vid == 0xB0:
            t.width = read_uint(buf[vps:vpe])
        elif vid == 0xBA:
            t.height = read_uint(buf[vps:vpe])
        elif vid == 0x55B0:
            for cid, _c, cps, cpe in children(buf, vps, vpe, base):
                if cid == 0x55B2:
                    t.bits_per_channel = read_uint(buf[cps:cpe])


def _parse_audio(buf: Buffer, ps: int, pe: int, base: int, t: WebmTrack, *, where: str) -> None:
    for aid, aoff, aps, ape in children(buf, ps, pe, base):
        if aid == 0xB5:
            if ape - aps not in (4, 8):
                raise SegmentError("SamplingFrequency must be a 4 or 8 byte float", base + aoff,
                                   f"{where}/SamplingFrequency")
            t.sampling_frequency = read_float(buf[aps:ape])
        elif aid == 0x9F:
            t.channels = read_uint(buf[aps:ape])


def _parse_encodings(buf: Buffer, ps: int, pe: int, base: int, t: WebmTrack) -> None:
    """ContentEncodings: only the first ContentEncKeyID matters (it marks the track encrypted)."""
    for _e, _o, eps, epe in children(buf, ps, pe, base):
        for xid, _xo, xps, xpe in children(buf, eps, epe, base):
            if xid != 0x5035:
                continue
            for kid, _ko, kps, kpe in children(buf, xps, xpe, base):
                if kid == 0x47E2 and not t.encryption_key_id:
                    t.encryption_key_id = bytes(buf[kps:kpe]) or b"\0"


def _parse_track_entry(buf: Buffer, start: int, end: int, base: int, path: str) -> WebmTrack:
    t = WebmTrack(offset=base + start)
    seen: set[int] = set()
    for eid, off, ps, pe in children(buf, start, end, base):
        data = buf[ps:pe]
        where = f"{path}/{S.name_of(eid)}"
        try:
            if eid == 0xD7:
                _dup(seen, eid, base + off, "TrackEntry")
                t.number = read_uint(data)
            elif eid == 0x83:
                _dup(seen, eid, base + off, "TrackEntry")
                t.type = read_uint(data)
            elif eid == 0x86:
                _dup(seen, eid, base + off, "TrackEntry")
                t.codec_id = read_string(data)
            elif eid == 0x63A2:
                _dup(seen, eid, base + off, "TrackEntry")
                t.codec_private = bytes(data)
            elif eid == 0x56AA:
                _dup(seen, eid, base + off, "TrackEntry")
                t.codec_delay = read_uint(data)
            elif eid == 0x56BB:
                _dup(seen, eid, base + off, "TrackEntry")
                t.seek_preroll = read_uint(data)
            elif eid == 0x23E383:
                _dup(seen, eid, base + off, "TrackEntry")
                t.default_duration = read_uint(data)
            elif eid == 0x9C:
                t.flag_lacing = read_uint(data)
            elif eid == 0x536E:
                t.name = read_string(data)
            elif eid == 0x22B59C:
                t.language = read_string(data)
            elif eid == 0xE0:
                _parse_video(buf, ps, pe, base, t)
            elif eid == 0xE1:
                _parse_audio(buf, ps, pe, base, t, where=where)
            elif eid == 0x6D80:
                _parse_encodings(buf, ps, pe, base, t)
        except ValueError as e:
            raise SegmentError(str(e), base + off, where) from None
    return t


def parse_tracks(buf: Buffer, start: int, end: int, base: int, init: WebmInit) -> None:
    """Tracks payload ``buf[start:end]``; checks what Chromium's WebMTracksParser checks."""
    n = 0
    for eid, off, ps, pe in children(buf, start, end, base):
        if eid != S.TRACK_ENTRY:
            continue
        n += 1
        path = f"Segment/Tracks/TrackEntry[{n}]"
        t = _parse_track_entry(buf, ps, pe, base, path)
        if t.type == -1 or t.number == -1:
            raise SegmentError("TrackEntry without TrackNumber or TrackType", base + off, path,
                               chromium=f"Missing TrackEntry data for  TrackType {t.type} "
                                        f"TrackNum {t.number}",
                               rule="WEBM-INIT-07")
        if t.type not in (TRACK_TYPE_VIDEO, TRACK_TYPE_AUDIO, TRACK_TYPE_SUBTITLE, TRACK_TYPE_METADATA):
            raise SegmentError(f"unexpected TrackType {t.type}", base + off, path,
                               chromium=f"Unexpected TrackType {t.type}", rule="WEBM-INIT-07")
        init.tracks.append(t)


def vp9_codec_string(t: WebmTrack) -> str:
    """``vp09.PP.LL.DD`` from VP9 CodecPrivate features (1 profile, 2 level, 3 bit depth), else ``vp9``."""
    feats: dict[int, int] = {}
    cp = t.codec_private
    i = 0
    while i + 2 <= len(cp):
        fid, flen = cp[i], cp[i + 1]
        if i + 2 + flen > len(cp):
            break
        if flen == 1:
            feats[fid] = cp[i + 2]
        i += 2 + flen
    if 1 not in feats:
        return "vp9"
    depth = feats.get(3, t.bits_per_channel or 8)
    level = feats.get(2, 10)
    return f"vp09.{feats[1]:02d}.{level:02d}.{depth:02d}"


def av1_codec_string(t: WebmTrack) -> str:
    """``av01.P.LLT.DD`` from the AV1CodecConfigurationRecord in CodecPrivate, else ``av01``."""
    cp = t.codec_private
    if len(cp) < 4 or cp[0] != 0x81:
        return "av01"
    profile = cp[1] >> 5
    level = cp[1] & 0x1F
    tier = "H" if cp[2] & 0x80 else "M"
    high_bitdepth = bool(cp[2] & 0x40)
    twelve_bit = bool(cp[2] & 0x20)
    depth = 12 if (profile == 2 and high_bitdepth and twelve_bit) else (10 if high_bitdepth else 8)
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


CODECS = {"V_VP8": "vp8", "V_VP9": "vp9", "V_AV1": "av01", "A_OPUS": "opus", "A_VORBIS": "vorbis"}


def codec_string(t: WebmTrack) -> str:
    if t.codec_id == "V_VP9":
        return vp9_codec_string(t)
    if t.codec_id == "V_AV1":
        return av1_codec_string(t)
    return CODECS.get(t.codec_id, t.codec_id)


def opus_head_problem(t: WebmTrack) -> str | None:
    """Why Chromium's Opus decoder would refuse this track's CodecPrivate (OpusHead, RFC 7845 §5.1).

    Measured in Chromium 156: a missing CodecPrivate and a pre-skip that differs from CodecDelay are
    accepted; an OpusHead shorter than 19 bytes or whose channel count differs from the track's Channels
    (1 when absent) fails decoder initialization (DECODER_ERROR_NOT_SUPPORTED)."""
    cp = t.codec_private
    if t.codec_id != "A_OPUS" or not cp:
        return None
    if len(cp) < 19:
        return f"OpusHead in CodecPrivate is {len(cp)} bytes (at least 19)"
    channels = cp[9]
    if not 1 <= channels <= 8:
        return f"OpusHead channel count {channels} (must be 1-8)"
    if cp[18] == 0 and channels > 2:
        return f"OpusHead channel mapping family 0 with {channels} channels"
    declared = t.channels if t.channels > 0 else 1
    if channels != declared:
        return f"OpusHead says {channels} channel(s) but the track's Channels is {declared}"
    return None


def check_track_config(t: WebmTrack, path: str) -> None:
    """What Chromium's WebMAudioClient/WebMVideoClient refuse (such an init segment fails the append),
    and the Opus decoder configurations Chromium's decoder refuses right after the init segment."""
    if t.type == TRACK_TYPE_AUDIO:
        problem = opus_head_problem(t)
        if problem is not None:
            raise SegmentError(problem, t.offset, path, rule="WEBM-INIT-10",
                               chromium="audio decoder initialization failed with "
                                        "DecoderStatus::Codes::kUnsupportedConfig")
        if t.codec_id not in ("A_VORBIS", "A_OPUS"):
            raise SegmentError(f"unsupported audio CodecID {t.codec_id!r}", t.offset, path,
                               chromium=f"Unsupported audio codec_id {t.codec_id}", rule="WEBM-INIT-08")
        if t.default_duration == 0:
            raise SegmentError("DefaultDuration of 0 ns", t.offset, path,
                               chromium="Illegal 0ns audio TrackEntry DefaultDuration", rule="WEBM-INIT-08")
        if not 0 < t.sampling_frequency < 2**31:
            raise SegmentError("audio track without a positive SamplingFrequency", t.offset, path,
                               rule="WEBM-INIT-08")
        if t.codec_id == "A_VORBIS" and not t.codec_private:
            raise SegmentError("Vorbis track without CodecPrivate (the Vorbis headers)", t.offset, path,
                               rule="WEBM-INIT-08")
    elif t.type == TRACK_TYPE_VIDEO:
        if t.codec_id not in ("V_VP8", "V_VP9", "V_AV1"):
            raise SegmentError(f"unsupported video CodecID {t.codec_id!r}", t.offset, path,
                               chromium=f"Unsupported video codec_id {t.codec_id}", rule="WEBM-INIT-08")
        if t.default_duration == 0:
            raise SegmentError("DefaultDuration of 0 ns", t.offset, path,
                               chromium="Illegal 0ns video TrackEntry DefaultDuration", rule="WEBM-INIT-08")
        if t.width <= 0 or t.height <= 0:
            raise SegmentError("video track without positive PixelWidth/PixelHeight", t.offset, path,
                               rule="WEBM-INIT-08")


def timescale_for(profile: Profile) -> int:
    return 1_000_000 if profile == "chromium" else 1_000_000_000


def default_duration_ticks(init: WebmInit, t: WebmTrack, profile: Profile) -> int | None:
    """DefaultDuration in ticks. Chromium caps its precision to whole TimecodeScale units, then to µs
    (WebMTracksParser::PrecisionCappedDefaultDuration); the spec profile keeps the ns value."""
    dd = t.default_duration
    if dd is None or dd <= 0:
        return None
    if profile == "spec":
        return dd
    us = (dd // init.timecode_scale) * init.timecode_scale // 1000
    return us or None


def used_tracks(init: WebmInit, profile: Profile) -> tuple[WebmTrack | None, WebmTrack | None, set[int]]:
    """(audio, video, ignored track numbers): Chromium uses the first audio and first video track only."""
    audio = video = None
    ignored: set[int] = set()
    for t in init.tracks:
        if t.type == TRACK_TYPE_AUDIO and audio is None:
            audio = t
        elif t.type == TRACK_TYPE_VIDEO and video is None:
            video = t
        else:
            ignored.add(t.number)
    return audio, video, ignored


def to_init_segment(init: WebmInit, profile: Profile) -> InitSegment:
    ts = timescale_for(profile)
    audio, video, _ = used_tracks(init, profile)
    tracks: list[TrackInfo] = []
    for t in init.tracks:
        kind: TrackKind
        if t is audio:
            kind = "audio"
        elif t is video:
            kind = "video"
        elif profile == "chromium":
            continue
        else:
            kind = {TRACK_TYPE_AUDIO: "audio", TRACK_TYPE_VIDEO: "video"}.get(t.type, "text")  # type: ignore[assignment]
        tracks.append(TrackInfo(
            track_id=t.number, kind=kind, codec=codec_string(t), timescale=ts, coding_name=t.codec_id,
            width=t.width if t.width > 0 else None, height=t.height if t.height > 0 else None,
            sample_rate=(48000 if t.codec_id == "A_OPUS" else int(t.sampling_frequency))
            if 0 < t.sampling_frequency < 2**31 else None,
            channels=t.channels if t.channels > 0 else (1 if kind == "audio" else None),
            language=t.language, encrypted=bool(t.encryption_key_id),
            default_duration=default_duration_ticks(init, t, profile),
        ))
    return InitSegment("webm", tuple(tracks), init.duration_seconds(profile), init.offset, init.size)


# ------------------------------------------------------------------------------------------------ blocks
@dataclass(frozen=True, slots=True)
class BlockHeader:
    track: int
    timecode: int  # signed, relative to the Cluster Timestamp
    flags: int
    header_size: int  # bytes before the frame data (track vint + 2 + 1)

    @property
    def keyframe_flag(self) -> bool:
        return bool(self.flags & 0x80)

    @property
    def lacing(self) -> int:
        """0 none, 1 Xiph, 2 fixed-size, 3 EBML."""
        return (self.flags >> 1) & 3


def parse_block_header(data: Buffer) -> BlockHeader | None:
    """The Block/SimpleBlock header (Matroska §10.1); None when shorter than a header."""
    if not data:
        return None
    first = data[0]
    n = 1
    while n <= 8 and not first & (0x80 >> (n - 1)):
        n += 1
    if n > 8 or len(data) < n + 3:
        return None
    track = int.from_bytes(data[:n], "big") & ((1 << (7 * n)) - 1)
    tc = int.from_bytes(data[n : n + 2], "big", signed=True)
    return BlockHeader(track, tc, data[n + 2], n + 3)


def lace_sizes(data: Buffer, hdr: BlockHeader) -> list[int] | None:
    """Frame sizes of a laced block (Matroska §10.3), None when the lacing header is inconsistent."""
    pos = hdr.header_size
    total = len(data)
    if hdr.lacing == 0:
        return [total - pos]
    if pos >= total:
        return None
    count = data[pos] + 1
    pos += 1
    sizes: list[int] = []
    if hdr.lacing == 2:
        body = total - pos
        if body % count:
            return None
        return [body // count] * count
    if hdr.lacing == 1:
        for _ in range(count - 1):
            size = 0
            while True:
                if pos >= total:
                    return None
                b = data[pos]
                pos += 1
                size += b
                if b != 255:
                    break
            sizes.append(size)
    else:
        prev = 0
        for i in range(count - 1):
            if pos >= total:
                return None
            first = data[pos]
            n = 1
            while n <= 8 and not first & (0x80 >> (n - 1)):
                n += 1
            if n > 8 or pos + n > total:
                return None
            raw = int.from_bytes(data[pos : pos + n], "big") & ((1 << (7 * n)) - 1)
            pos += n
            size = raw if i == 0 else prev + raw - ((1 << (7 * n - 1)) - 1)
            if size < 0:
                return None
            sizes.append(size)
            prev = size
    rest = total - pos - sum(sizes)
    if rest < 0:
        return None
    sizes.append(rest)
    return sizes


def opus_duration_us(toc: Buffer) -> int | None:
    """Packet duration from the Opus TOC (and frame-count byte for code 3); None when unreadable."""
    if len(toc) < 1:
        return None
    code = toc[0] & 3
    if code == 0:
        count = 1
    elif code in (1, 2):
        count = 2
    else:
        if len(toc) < 2:
            return None
        count = toc[1] & 0x3F
        if count == 0:
            return None
    return OPUS_FRAME_US[toc[0] >> 3] * count


# ---------------------------------------------------------------------------------------------- clusters
@dataclass(slots=True)
class PendingFrame:
    track: int
    pts: int  # ticks
    duration: int | None
    keyframe: bool
    size: int
    offset: int
    estimated: bool = False

    def frame(self, timescale: int) -> CodedFrame:
        return CodedFrame(self.track, self.pts, self.pts, self.duration or 0, timescale, self.keyframe,
                          self.size, self.offset, self.estimated)


@dataclass(slots=True)
class _TrackState:
    number: int
    kind: TrackKind
    default_duration: int | None
    opus: bool
    encrypted: bool
    queued: list[PendingFrame] = field(default_factory=list)
    held: PendingFrame | None = None
    max_duration: int | None = None


class ClusterAssembler:
    """Blocks of Clusters -> coded frames with Chromium's duration rules (webm_cluster_parser.cc).

    One assembler lives as long as an init segment: the largest frame duration seen per track (the
    estimate for a Cluster's last block) survives Clusters and aborts, as in Chromium.
    """

    def __init__(self, init: WebmInit, profile: Profile) -> None:
        self.profile = profile
        self.timescale = timescale_for(profile)
        self.scale = init.timecode_scale
        audio, video, ignored = used_tracks(init, profile)
        self.ignored = ignored if profile == "chromium" else set()
        self.tracks: dict[int, _TrackState] = {}
        for t, kind in ((audio, "audio"), (video, "video")):
            if t is not None:
                self.tracks[t.number] = _TrackState(
                    t.number, kind, default_duration_ticks(init, t, profile),  # type: ignore[arg-type]
                    t.codec_id == "A_OPUS", bool(t.encryption_key_id))
        if profile == "spec":
            for t in init.tracks:
                if t.number not in self.tracks:
                    self.tracks[t.number] = _TrackState(
                        t.number, "text" if t.type not in (1, 2) else ("audio" if t.type == 2 else "video"),
                        default_duration_ticks(init, t, profile), t.codec_id == "A_OPUS",
                        bool(t.encryption_key_id))
        self.timecode: int | None = None
        self.last_block_timecode: int | None = None
        self.blocks_in_cluster = 0

    # time conversions -----------------------------------------------------------------------------
    def ticks(self, timecode_units: int) -> int:
        """A TimecodeScale count -> ticks: Chromium truncates a double product to µs; spec keeps ns."""
        if self.profile == "chromium":
            return int(timecode_units * (self.scale / 1000.0))
        return timecode_units * self.scale

    def us_to_ticks(self, us: int) -> int:
        return us if self.profile == "chromium" else us * 1000

    # cluster lifecycle ----------------------------------------------------------------------------
    def start_cluster(self) -> None:
        self.timecode = None
        self.last_block_timecode = None
        self.blocks_in_cluster = 0

    def set_timecode(self, value: int, offset: int) -> None:
        if self.timecode is not None:
            raise SegmentError("more than one Timestamp in the Cluster", offset, rule="WEBM-MEDIA-03")
        self.timecode = value

    def block(self, hdr: BlockHeader, data: Buffer, offset: int, *, simple: bool, block_duration: int | None,
              reference: bool, path: str = "") -> None:
        """One Block or SimpleBlock; ``data`` is at least its header plus the first frame bytes."""
        if self.profile == "chromium" and hdr.track > 127:
            raise SegmentError(f"TrackNumber {hdr.track} > 127", offset, path,
                               chromium="TrackNumber over 127 not supported", rule="WEBM-MEDIA-08")
        if self.profile == "chromium" and hdr.lacing:
            raise SegmentError(f"laced block (lacing {hdr.lacing})", offset, path,
                               chromium=f"Lacing {hdr.lacing} is not supported yet.", rule="WEBM-MEDIA-08")
        if self.timecode is None:
            raise SegmentError("block before the Cluster Timestamp", offset, path,
                               chromium="Got a block before cluster timecode.", rule="WEBM-MEDIA-03")
        if self.last_block_timecode is not None and hdr.timecode < self.last_block_timecode:
            raise SegmentError(f"block timecode {hdr.timecode} before the previous block's "
                               f"{self.last_block_timecode}", offset, path,
                               chromium="Got a block with a timecode before the previous block.",
                               rule="WEBM-MEDIA-04")
        tr = self.tracks.get(hdr.track)
        if tr is None:
            if hdr.track in self.ignored:
                return
            raise SegmentError(f"block for track {hdr.track}, which Tracks does not declare", offset, path,
                               chromium=f"Unexpected track number {hdr.track}", rule="WEBM-MEDIA-08")
        self.last_block_timecode = hdr.timecode
        self.blocks_in_cluster += 1
        keyframe = hdr.keyframe_flag if simple else not reference
        pts = self.ticks(self.timecode + hdr.timecode)
        if abs(pts) >= 2**63 - 1:
            raise SegmentError("block timestamp out of range", offset, path,
                               chromium="Invalid cluster timecode.", rule="WEBM-MEDIA-07")
        body = len(data) - hdr.header_size
        sizes: list[int] = [body]
        if hdr.lacing:
            laced = lace_sizes(data, hdr)
            if laced is None:
                raise SegmentError("inconsistent lacing header", offset, path, rule="WEBM-MEDIA-08")
            sizes = laced
        duration: int | None = None
        if tr.opus and not tr.encrypted and not hdr.lacing:
            us = opus_duration_us(data[hdr.header_size : hdr.header_size + 2])
            if us is not None:
                duration = self.us_to_ticks(us)
        if duration is None and block_duration is not None:
            duration = self.ticks(block_duration)
        if duration is None:
            duration = tr.default_duration
        if len(sizes) > 1:
            self._laced(tr, hdr, data, sizes, pts=pts, block_duration=block_duration, keyframe=keyframe,
                        offset=offset, path=path)
            return
        self._add(tr, PendingFrame(hdr.track, pts, duration, keyframe, body, offset), path)

    def _laced(self, tr: _TrackState, hdr: BlockHeader, data: Buffer, sizes: list[int], *, pts: int,
               block_duration: int | None, keyframe: bool, offset: int, path: str) -> None:
        """Frames of a laced block (spec profile only; Chromium refuses lacing). Matroska gives each laced
        frame the track's DefaultDuration; Opus frames carry their own; a BlockDuration covers the lace."""
        durations: list[int | None] = [tr.default_duration] * len(sizes)
        if tr.opus and not tr.encrypted:
            pos = len(data) - sum(sizes)
            for i, sz in enumerate(sizes):
                us = opus_duration_us(data[pos : pos + min(sz, 2)])
                durations[i] = self.us_to_ticks(us) if us is not None else durations[i]
                pos += sz
        elif block_duration is not None:
            durations = [self.ticks(block_duration) // len(sizes)] * len(sizes)
        start = pts
        for i, (sz, dur) in enumerate(zip(sizes, durations, strict=True)):
            self._add(tr, PendingFrame(hdr.track, start, dur, keyframe and i == 0, sz, offset), path)
            start += dur or 0

    def _add(self, tr: _TrackState, f: PendingFrame, path: str) -> None:
        if tr.held is not None:
            tr.held.duration = f.pts - tr.held.pts
            self._queue(tr, tr.held, path)
            tr.held = None
        if f.duration is None:
            tr.held = f
            return
        self._queue(tr, f, path)

    def _queue(self, tr: _TrackState, f: PendingFrame, path: str) -> None:
        assert f.duration is not None
        if f.duration < 0:
            raise SegmentError(f"negative frame duration {f.duration}", f.offset, path,
                               chromium=f"Invalid buffer duration: {f.duration / self.timescale:g}",
                               rule="WEBM-MEDIA-08")
        if f.duration > 0:
            tr.max_duration = f.duration if tr.max_duration is None else max(tr.max_duration, f.duration)
        tr.queued.append(f)

    def end_cluster(self, offset: int) -> list[PendingFrame]:
        """The Cluster ended: estimate held-back durations and return every remaining frame."""
        if self.blocks_in_cluster == 0 and self.timecode is None:
            raise SegmentError("Cluster without a Timestamp", offset, rule="WEBM-MEDIA-03")
        for tr in self.tracks.values():
            if tr.held is not None:
                f = tr.held
                tr.held = None
                if tr.max_duration is not None:
                    f.duration = tr.max_duration
                else:
                    ms = DEFAULT_AUDIO_DURATION_MS if tr.kind == "audio" else DEFAULT_VIDEO_DURATION_MS
                    f.duration = self.us_to_ticks(ms * 1000)
                f.estimated = True
                tr.queued.append(f)  # an estimate never feeds later estimates
        out = self._take(None)
        self.timecode = None
        self.last_block_timecode = None
        self.blocks_in_cluster = 0
        return out

    def ready(self) -> list[PendingFrame]:
        """Frames that can be emitted now: those before the earliest held-back frame of any track."""
        bound: int | None = None
        for tr in self.tracks.values():
            if tr.held is not None and (bound is None or tr.held.pts < bound):
                bound = tr.held.pts
        return self._take(bound)

    def _take(self, bound: int | None) -> list[PendingFrame]:
        out: list[PendingFrame] = []
        for tr in self.tracks.values():
            if bound is None:
                out.extend(tr.queued)
                tr.queued = []
            else:
                k = 0
                while k < len(tr.queued) and tr.queued[k].pts < bound:
                    k += 1
                out.extend(tr.queued[:k])
                del tr.queued[:k]
        out.sort(key=lambda f: f.pts)
        return out

    def reset(self) -> None:
        """abort(): drop the partial Cluster and any frame not yet emitted (max durations survive)."""
        for tr in self.tracks.values():
            tr.queued = []
            tr.held = None
        self.timecode = None
        self.last_block_timecode = None
        self.blocks_in_cluster = 0
