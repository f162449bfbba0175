"""The MSE ISO BMFF byte stream format rules (w3c mse-byte-stream-format-isobmff), as a static checker.

The stream parser (msetool.bmff.stream) stops at the first byte a browser would reject, exactly like the
browser; this checker walks every top-level box of the run with :func:`msetool.bmff.iter_boxes` (headers
only, ``mdat`` payloads are never read) and keeps going, so one run reports every broken segment.

Severities predict Chromium, the browser the project is checked against: ``error`` where Chromium's
append fails, ``warning`` where the spec says MUST but Chromium tolerates it or where playback is at risk,
``info`` for things worth knowing. Rule ids follow docs/design mse-rules.md (BMFF-INIT-nn, BMFF-MEDIA-nn);
ids the stream parser raises are registered by :mod:`msetool.bmff.rules` and only reused here.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from msetool.bmff.boxes import CHILDREN, DECODERS, FAST_DECODERS
from msetool.bmff.reader import DEFAULT_MAX_DECODE, SKIP_PAYLOAD, decode_payload, iter_boxes
from msetool.bmff.segments import SAMPLE_IS_NON_SYNC, sample_flags_of
from msetool.bmff.tree import INDEXED, Box, BoxIssue
from msetool.codecs import decodable
from msetool.codecs.decodable import (
    pps_ids,
    sps_id,
    undecodable_aac_frame,
    undecodable_av1_frame,
    undecodable_opus_frame,
    undecodable_vp9_frame,
)
from msetool.records import Record
from msetool.rules.catalog import ensure_rule, finding
from msetool.rules.engine import SPEC_ERRORS, CheckContext
from msetool.rules.findings import Finding, Severity
from msetool.source import ByteSource

with contextlib.suppress(ImportError):
    importlib.import_module("msetool.bmff.rules")  # the parser's rule ids, registered first

ISO = "mse-byte-stream-format-isobmff"
CHR_MP4 = "Chromium media/formats/mp4"
APPEND_FAILS = (
    "Chromium's append fails (CHUNK_DEMUXER_ERROR_APPEND_FAILED): the SourceBuffer fires 'error' and "
    "the media element stops with a decode error."
)

_RULES: list[tuple[str, str, str, str, str]] = [
    (
        "BMFF-INIT-01",
        "warning",
        "The initialization segment is not ftyp followed by moov",
        "Chromium skips a missing or misplaced ftyp; other browsers may reject the segment.",
        f"{ISO} §iso-init-segments",
    ),
    (
        "BMFF-INIT-04",
        "warning",
        "moov sample tables are not empty (stts/stsc/stco/stsz entries)",
        "The spec makes this an append error; Chromium ignores the tables, so the samples they describe (and "
        "any mdat that follows the moov) are never buffered.",
        f"{ISO} §iso-init-segments",
    ),
    (
        "BMFF-INIT-05",
        "error",
        "moov has no mvex: the file is not fragmented",
        "Chromium: 'Detected unfragmented MP4. Media Source Extensions require ISO BMFF moov to contain "
        "mvex'; " + APPEND_FAILS,
        f"{ISO} §iso-init-segments",
    ),
    (
        "BMFF-INIT-06",
        "error",
        "A track has no trex, or its default_sample_description_index is 0",
        APPEND_FAILS,
        f"{CHR_MP4}/mp4_stream_parser.cc ParseMoov; ISO/IEC 14496-12 §8.8.3",
    ),
    (
        "BMFF-INIT-07",
        "warning",
        "The edit list goes beyond one edit with media_rate 1",
        "Browsers only honour the first non-empty edit's media_time (Chromium ignores empty edits, later "
        "entries, segment_duration and rate): timestamps may differ between browsers.",
        f"{ISO} §iso-init-segments",
    ),
    (
        "BMFF-INIT-09",
        "error",
        "A top-level box type that a browser does not accept",
        "Chromium: 'Invalid top-level ISO BMFF box type'; " + APPEND_FAILS,
        f"{ISO} §iso-init-segments; {CHR_MP4}/box_reader.cc",
    ),
    (
        "BMFF-INIT-10",
        "error",
        "A box with size 0 (extends to the end of the file)",
        "Chromium: 'ISO BMFF boxes that run to EOS are not supported'; " + APPEND_FAILS,
        f"{CHR_MP4}/box_reader.cc",
    ),
    (
        "BMFF-INIT-12",
        "error",
        "mvhd or mdhd timescale is 0",
        "Chromium: 'Movie header's timescale must not be 0'; " + APPEND_FAILS,
        f"{CHR_MP4}/box_definitions.cc",
    ),
    (
        "BMFF-INIT-13",
        "error",
        "The sample entry names a codec the browser cannot decode",
        "The init segment is rejected ('Unsupported VisualSampleEntry type', 'Unsupported audio format'); "
        + APPEND_FAILS,
        "media-source §sourcebuffer-init-segment-received step 5",
    ),
    (
        "BMFF-INIT-14",
        "error",
        "A sample entry lacks its configuration box, or the box is malformed",
        "The decoder configuration cannot be built (e.g. avc1 without avcC, Opus without dOps); "
        + APPEND_FAILS,
        f"{ISO} §iso-init-segments; {CHR_MP4}/box_definitions.cc",
    ),
    (
        "BMFF-INIT-17",
        "error",
        "An encrypted sample entry lacks sinf/frma/schm/tenc or uses an unknown scheme",
        APPEND_FAILS,
        "ISO/IEC 23001-7 §8; " + f"{CHR_MP4}/box_definitions.cc",
    ),
    (
        "BMFF-INIT-21",
        "error",
        "A box that moov/trak requires is missing (mvhd, tkhd, mdia, mdhd, hdlr, stsd)",
        APPEND_FAILS,
        "ISO/IEC 14496-12 §8.2-8.5",
    ),
    (
        "BMFF-INIT-22",
        "warning",
        "Platform-dependent codec (HEVC, AC-3, E-AC-3, Dolby Vision)",
        "Only some Chromium builds decode it; where it is missing addSourceBuffer() "
        "throws NotSupportedError.",
        "media-source §dom-mediasource-istypesupported",
    ),
    (
        "GEN-01",
        "error",
        "Two tracks of one initialization segment share a track_ID",
        "Chromium: 'Video track with track_id=N already present'; " + APPEND_FAILS,
        "media-source §introduction (Track ID)",
    ),
    (
        "GEN-13",
        "error",
        "The initialization segment has no audio or video track",
        "The init segment received algorithm fails (DEMUXER_ERROR_COULD_NOT_OPEN).",
        "media-source §sourcebuffer-init-segment-received step 2",
    ),
    (
        "GEN-11",
        "error",
        "A media segment before any initialization segment",
        "The append error algorithm runs: the browser cannot interpret a moof without a moov.",
        "media-source §sourcebuffer-segment-parser-loop",
    ),
    (
        "BMFF-BOX-01",
        "error",
        "Bytes between boxes that do not start a box",
        "The parser reads them as a box header; Chromium rejects the type or size and the append fails.",
        f"{ISO} §iso-media-segments; {CHR_MP4}/box_reader.cc",
    ),
    (
        "BMFF-BOX-02",
        "error",
        "A box size is smaller than its header or a child box overruns its parent",
        APPEND_FAILS,
        "ISO/IEC 14496-12 §4.2",
    ),
    (
        "BMFF-BOX-03",
        "error",
        "A box payload inside moov or moof cannot be decoded",
        "The browser reads the same fields; a short or impossible payload makes its parser give up. "
        + APPEND_FAILS,
        "ISO/IEC 14496-12",
    ),
    (
        "BMFF-BOX-04",
        "warning",
        "A box outside moov/moof cannot be decoded, or nesting is too deep",
        "Browsers skip these boxes (sidx, emsg, prft, ...) at most; tools that read them may misbehave.",
        "ISO/IEC 14496-12",
    ),
    (
        "BMFF-MEDIA-01",
        "warning",
        "moof is not followed by the mdat holding its samples",
        "The spec makes this an append error. Chromium reads the sample bytes wherever the offsets point and "
        "swallows the boxes in between as media data: the samples are garbage (H.264 then fails the append, "
        "'Failed to prepare video sample for decode') and the next segment may silently disappear.",
        f"{ISO} §iso-media-segments",
    ),
    (
        "BMFF-MEDIA-06",
        "warning",
        "moof has no traf",
        "The spec makes this an append error; Chromium accepts an empty fragment and buffers nothing.",
        f"{ISO} §iso-media-segments",
    ),
    (
        "BMFF-MEDIA-07",
        "error",
        "moof does not use movie-fragment relative addressing",
        "Chromium: 'TFHD base-data-offset not allowed by MSE'; " + APPEND_FAILS,
        f"{ISO} §movie-fragment-relative-addressing",
    ),
    (
        "BMFF-MEDIA-07W",
        "warning",
        "Several trafs without default-base-is-moof",
        "Chromium always measures data_offset from the moof, other parsers follow ISO BMFF and "
        "measure from the "
        "end of the previous traf's data: the samples may be read from the wrong bytes.",
        f"{ISO} §movie-fragment-relative-addressing",
    ),
    (
        "BMFF-MEDIA-32",
        "error",
        "Trafs addressed per ISO BMFF (no default-base-is-moof): Chromium reads other bytes",
        "The offsets only make sense the ISO way (each traf's data_offset counted from the end of the "
        "previous traf's data); Chromium counts every data_offset from the moof, so a traf's samples are "
        "read from bytes that are not its data (the moof itself, another track's samples). The append "
        "succeeds, then the decoder fails: the media element reports PIPELINE_ERROR_DECODE ('Failed to send "
        "audio packet for decoding') and playback stops.",
        f"{ISO} §movie-fragment-relative-addressing; ISO/IEC 14496-12 §8.8.7.1; "
        f"{CHR_MP4}/track_run_iterator.cc",
    ),
    (
        "BMFF-MEDIA-33",
        "error",
        "A frame decoded before playback starts cannot be decoded",
        "A paused element at 0 prerolls the start of the first buffered range (when it begins before 1 s): "
        "the first video frame and about 200 ms of audio. When every slice header of that H.264 frame is "
        "impossible (slice_type above 9, a non-intra slice in an IDR NAL unit, a picture parameter set that "
        "does not exist, first_mb_in_slice past the picture) or an AAC frame breaks the raw_data_block "
        "syntax before its Huffman data (a coupling/LFE element the channel configuration lacks, a reserved "
        "ics_info bit, too many scalefactor bands, prediction in AAC-LC, ms_mask_present 3), a VP9 frame has "
        "no frame_marker or key frame sync code, an AV1 OBU sets obu_forbidden_bit or overruns the "
        "sample, or an Opus packet breaks the RFC 6716 framing rules, the decoder "
        "fails: the media element reports PIPELINE_ERROR_DECODE ('Failed to send video/audio packet for "
        "decoding') and every later append throws.",
        "ITU-T H.264 §7.3.3; ISO/IEC 14496-3 §4.4.2; VP9 §6.2; AV1 §5.3; RFC 6716 §3.4; "
        "Chromium media/filters/*_decoder.cc, "
        "media/filters/source_buffer_stream.cc kSeekToStartFudgeRoom",
    ),
    (
        "BMFF-MEDIA-08",
        "warning",
        "A trun has no data_offset",
        "The spec requires data_offset in the first trun of every traf. Chromium reads every trun without "
        "one from the start of the moof, so its samples are taken from the wrong bytes (H.264 then fails the "
        "append, 'Failed to prepare video sample for decode'; other codecs decode noise).",
        f"{CHR_MP4}/track_run_iterator.cc",
    ),
    (
        "BMFF-MEDIA-10",
        "error",
        "traf has no tfdt",
        "Chromium requires tfdt ('Media Source specific: tfdt required'); " + APPEND_FAILS,
        f"{ISO} §iso-media-segments",
    ),
    (
        "BMFF-MEDIA-11",
        "error",
        "trun data lies outside the mdat that follows the moof",
        "The samples reference bytes that are not media data of this segment; the browser reads the wrong "
        "bytes or waits forever. " + APPEND_FAILS,
        f"{ISO} §iso-media-segments",
    ),
    (
        "BMFF-MEDIA-13",
        "error",
        "tfhd names a track_ID the initialization segment does not declare",
        "Chromium cannot find the trak/trex for the run; " + APPEND_FAILS,
        f"{CHR_MP4}/track_run_iterator.cc",
    ),
    (
        "BMFF-MEDIA-15",
        "warning",
        "trun version 0 composition offsets of 2^31 or more",
        "Chromium reads composition offsets as signed: these become negative and PTS jumps back.",
        f"{CHR_MP4}/box_definitions.cc",
    ),
    (
        "BMFF-MEDIA-16",
        "error",
        "sample_depends_on uses the reserved value 3",
        "Chromium: 'Reserved value used in sample dependency info.'; " + APPEND_FAILS,
        f"{CHR_MP4}/track_run_iterator.cc",
    ),
    (
        "BMFF-MEDIA-31",
        "error",
        "Two runs of a moof claim the same media data bytes",
        "Chromium reads each run at moof start + data_offset; overlapping runs decode the same bytes as two "
        "different samples, so one track gets garbage: the decoder fails and the media element reports an "
        "error (typically fragments without default-base-is-moof addressed the ISO way).",
        f"{ISO} §movie-fragment-relative-addressing; {CHR_MP4}/track_run_iterator.cc",
    ),
    (
        "BMFF-MEDIA-19",
        "warning",
        "Samples of size 0",
        "Chromium skips them ('Skipping trun sample with size of 0'): they never reach the buffer.",
        f"{CHR_MP4}/mp4_stream_parser.cc",
    ),
    (
        "BMFF-MEDIA-20",
        "warning",
        "Audio samples flagged as non-sync",
        "Chromium treats every audio frame as a keyframe and logs a warning; other browsers may drop them.",
        "Chromium media/filters/frame_processor.cc",
    ),
    (
        "BMFF-MEDIA-22",
        "error",
        "Sample encryption info does not cover every sample",
        "Chromium: 'Sample encryption info is not available.'; " + APPEND_FAILS,
        "ISO/IEC 23001-7 §7",
    ),
    (
        "BMFF-MEDIA-23",
        "info",
        "mfhd sequence_number decreases or repeats",
        "MSE ignores sequence numbers, but a decrease usually means segments are appended out of order.",
        "ISO/IEC 14496-12 §8.8.5",
    ),
    (
        "BMFF-MEDIA-27",
        "error",
        "moof has no mfhd",
        "Chromium requires mfhd in every moof; " + APPEND_FAILS,
        f"{CHR_MP4}/box_definitions.cc",
    ),
    (
        "BMFF-MEDIA-28",
        "warning",
        "A plain mdat outside any media segment",
        "Browsers skip it: the samples it holds (e.g. described by moov's sample tables) are never buffered.",
        f"{ISO} §iso-media-segments",
    ),
    (
        "BMFF-MEDIA-29",
        "warning",
        "tfhd sample_description_index does not name a sample entry",
        "Chromium falls back to the first sample entry; the stream may be decoded with the wrong config.",
        f"{CHR_MP4}/track_run_iterator.cc",
    ),
]
for _r in _RULES:
    ensure_rule(*_r)
# The spec's MUSTs that Chromium tolerates: errors under --profile spec.
SPEC_ERRORS.update(
    {
        "BMFF-INIT-01",
        "BMFF-INIT-04",
        "BMFF-MEDIA-01",
        "BMFF-MEDIA-06",
        "BMFF-MEDIA-07W",
        "BMFF-MEDIA-08",
        "BMFF-MEDIA-11",
    }
)

#: Top-level box types Chromium's MP4 parser accepts (box_reader.cc IsValidTopLevelBox).
TOP_LEVEL = frozenset(
    {
        "ftyp",
        "pdin",
        "bloc",
        "moov",
        "moof",
        "mfra",
        "mdat",
        "free",
        "skip",
        "meta",
        "meco",
        "styp",
        "sidx",
        "ssix",
        "prft",
        "uuid",
        "emsg",
    }
)
VIDEO_CONFIG = {
    "avc1": "avcC",
    "avc3": "avcC",
    "hvc1": "hvcC",
    "hev1": "hvcC",
    "av01": "av1C",
    "vp09": "vpcC",
    "dvh1": "hvcC",
    "dvhe": "hvcC",
    "dva1": "avcC",
    "dvav": "avcC",
}
AUDIO_CONFIG = {"mp4a": "esds", "Opus": "dOps", "fLaC": "dfLa", "ac-3": "dac3", "ec-3": "dec3"}
PLATFORM_GATED = {"hvc1", "hev1", "dvh1", "dvhe", "dva1", "dvav", "ac-3", "ec-3"}
SUPPORTED = set(VIDEO_CONFIG) | set(AUDIO_CONFIG) | {"vp08", ".mp3", "iamf"}


class TrackDefaults(Record):
    __slots__ = __match_args__ = (
        "track_id", "handler", "timescale", "entries", "has_trex", "default_sample_size",
        "default_sample_flags", "iv_size", "encrypted", "avc_length", "avc_pps", "avc_mbs", "avc_sps",
        "aac", "frame_codec", "default_sample_duration", "first_checked",
    )  # fmt: skip
    track_id: int
    handler: str
    timescale: int
    entries: int
    has_trex: bool
    default_sample_size: int
    default_sample_flags: int
    iv_size: int
    encrypted: bool
    #: H.264 (avc1/avc3 with a readable avcC): NAL length size, PPS ids of avcC, macroblocks per frame
    avc_length: int
    avc_pps: frozenset[int]
    avc_mbs: int
    #: SPS ids of avcC (None: not known, any PPS is taken as usable)
    avc_sps: frozenset[int] | None
    #: AAC (mp4a with an AudioSpecificConfig): (audioObjectType, channelConfiguration)
    aac: tuple[int, int] | None
    #: "vp09" / "av01": the first frame's header is checked (libvpx / dav1d)
    frame_codec: str
    default_sample_duration: int
    #: lowest baseMediaDecodeTime whose first sample was checked (first frame the element decodes)
    first_checked: int | None

    def __init__(  # noqa: PLR0917 (the dataclass init it replaces took every field positionally)
        self,
        track_id: int,
        handler: str = "",
        timescale: int = 0,
        entries: int = 0,
        has_trex: bool = False,
        default_sample_size: int = 0,
        default_sample_flags: int = 0,
        iv_size: int = 0,
        encrypted: bool = False,
        avc_length: int = 0,
        avc_pps: frozenset[int] = frozenset(),
        avc_mbs: int = 0,
        avc_sps: frozenset[int] | None = None,
        aac: tuple[int, int] | None = None,
        frame_codec: str = "",
        default_sample_duration: int = 0,
        first_checked: int | None = None,
    ) -> None:
        self.track_id = track_id
        self.handler = handler
        self.timescale = timescale
        self.entries = entries
        self.has_trex = has_trex
        self.default_sample_size = default_sample_size
        self.default_sample_flags = default_sample_flags
        self.iv_size = iv_size
        self.encrypted = encrypted
        self.avc_length = avc_length
        self.avc_pps = avc_pps
        self.avc_mbs = avc_mbs
        self.avc_sps = avc_sps
        self.aac = aac
        self.frame_codec = frame_codec
        self.default_sample_duration = default_sample_duration
        self.first_checked = first_checked


class _State(Record):
    __slots__ = __match_args__ = ("tracks", "init_seen", "last_sequence")
    tracks: dict[int, TrackDefaults]
    init_seen: bool
    last_sequence: int | None

    def __init__(
        self,
        tracks: dict[int, TrackDefaults] | None = None,
        init_seen: bool = False,
        last_sequence: int | None = None,
    ) -> None:
        self.tracks = {} if tracks is None else tracks
        self.init_seen = init_seen
        self.last_sequence = last_sequence


#: Containers Chromium walks on its way to the boxes it reads (a structural problem among their direct
#: children fails its parse) and the boxes it decodes (a short payload fails it). Elsewhere (udta, meta,
#: colr, unknown boxes) a problem is invisible to the browser and only worth a warning.
CHROMIUM_SCANNED = frozenset(
    {
        "moov",
        "trak",
        "mdia",
        "minf",
        "stbl",
        "stsd",
        "mvex",
        "edts",
        "sinf",
        "schi",
        "moof",
        "traf",
        "avc1",
        "avc3",
        "hvc1",
        "hev1",
        "av01",
        "vp09",
        "encv",
        "mp4a",
        "enca",
        "Opus",
        "fLaC",
        "ac-3",
        "ec-3",
        "dvh1",
        "dvhe",
    }
)
CHROMIUM_DECODED = frozenset(
    {
        "mvhd",
        "tkhd",
        "mdhd",
        "hdlr",
        "stsd",
        "elst",
        "mehd",
        "trex",
        "pssh",
        "frma",
        "schm",
        "tenc",
        "avcC",
        "hvcC",
        "av1C",
        "vpcC",
        "esds",
        "dOps",
        "dfLa",
        "dac3",
        "dec3",
        "mfhd",
        "tfhd",
        "tfdt",
        "trun",
        "sdtp",
        "saiz",
        "saio",
        "sbgp",
        "sgpd",
        "senc",
    }
)


def _types(path: str) -> list[str]:
    return [seg.split("[")[0] for seg in path.split("/") if seg]


def _browser_sees(path: str, *, decoded: bool) -> bool:
    """Whether Chromium's MP4 parser reaches the box at ``path`` (and, with ``decoded``, reads its fields)."""
    types = _types(path)
    if len(types) <= 1:
        return not decoded or (bool(types) and types[0] in CHROMIUM_DECODED)
    if not all(t in CHROMIUM_SCANNED for t in types[:-1]):
        return False
    return not decoded or types[-1] in CHROMIUM_DECODED


#: Chromium's BoxReader refuses any box whose size exceeds this ("support for boxes larger than 2^31 has
#: been removed"), complete or not.
MAX_BOX_SIZE = 0x7FFFFFFF


def chromium_waits_at(source: ByteSource, offset: int, end: int) -> bool:
    """Whether Chromium's BoxReader, handed the top-level bytes ``source[offset:end]``, waits for more data
    (kNeedMoreData) instead of failing. Its header checks come first (size 0, a size smaller than the header
    or above 2^31-1 fail), then a declared size beyond the bytes available means "wait"; only a complete
    box has its type checked. So bytes that are no box at all still fail nothing while their "size" runs
    past the data: the parser swallows every later append into the pending box."""
    head = source.read_at(offset, 16)
    if len(head) < 8:
        return True
    size = int.from_bytes(head[:4], "big")
    hsize = 8
    if size == 1:
        if len(head) < 16:
            return True
        size = int.from_bytes(head[8:16], "big")
        hsize = 16
    if size == 0 or size < hsize or size > MAX_BOX_SIZE:
        return False
    return offset + size > end


def _issue_findings(
    issues: list[BoxIssue], ends_with_abort: bool, size: int, source: ByteSource | None = None
) -> Iterable[Finding]:
    garbage_at = {i.offset for i in issues if i.kind == "garbage"}
    for i in issues:
        if i.kind == "to-end" and i.offset in garbage_at:
            continue  # a zero "size" read from bytes that are not a box at all
        if (
            i.kind == "garbage"
            and not i.path
            and "too few" not in i.message
            and source is not None
            and chromium_waits_at(source, i.offset, size)
        ):
            if not ends_with_abort:
                yield finding(
                    "GEN-TRUNC-01",
                    f"{i.message}, and its size field runs past the end of the data: the browser waits for "
                    "the rest of this 'box' and swallows every later append into it (nothing more is "
                    "buffered)",
                    offset=i.offset,
                    box=i.path,
                )
            continue
        if i.kind == "truncated":
            if ends_with_abort:
                continue
            yield finding(
                "GEN-TRUNC-01",
                f"{i.message}: the stream ends inside this box, so the browser keeps waiting for the rest",
                offset=i.offset,
                box=i.path,
            )
        elif i.kind == "to-end":
            yield finding(
                "BMFF-INIT-10",
                "box size 0 ('extends to the end of the file') is not supported by MSE parsers",
                offset=i.offset,
                box=i.path,
            )
        elif i.kind == "garbage":
            few = "too few" in i.message
            if few and not i.path:  # the data ends a few bytes into a top-level box header
                if not ends_with_abort:
                    yield finding("GEN-TRUNC-01", i.message, offset=i.offset, box=i.path)
            elif few and not _browser_sees(i.path + "/x", decoded=False):
                yield finding("BMFF-BOX-04", i.message, offset=i.offset, box=i.path)
            else:
                yield finding("BMFF-BOX-01", i.message, offset=i.offset, box=i.path)
        elif i.kind in ("size-too-small", "overruns-parent"):
            rid = "BMFF-BOX-02" if _browser_sees(i.path, decoded=False) else "BMFF-BOX-04"
            yield finding(rid, i.message, offset=i.offset, box=i.path)
        elif i.kind == "invalid-field":
            rid = "BMFF-BOX-03" if _browser_sees(i.path, decoded=True) else "BMFF-BOX-04"
            yield finding(rid, f"{i.path}: {i.message}", offset=i.offset, box=i.path)
        elif i.kind in ("too-deep", "too-large"):
            yield finding("BMFF-BOX-04", i.message, offset=i.offset, box=i.path)


def _check_tables(trak: Box, stbl: Box | None, tid: int) -> list[Finding]:
    """Empty sample tables (BMFF-INIT-04) and edit list limits (BMFF-INIT-07)."""
    out: list[Finding] = []

    def add(rid: str, msg: str, box: Box) -> None:
        out.append(finding(rid, msg, offset=box.offset, box=box.path))

    if stbl is not None:
        for name in ("stts", "stsc", "stco", "co64", "ctts", "stss"):
            b = stbl.child(name)
            if b is not None and b.get("entry_count", 0):
                add(
                    "BMFF-INIT-04",
                    f"track {tid}: {name} has {b.get('entry_count')} entries; an "
                    "initialization segment must describe no samples",
                    b,
                )
                break
        else:
            stsz = stbl.child("stsz") or stbl.child("stz2")
            if stsz is not None and stsz.get("sample_count", 0):
                add(
                    "BMFF-INIT-04",
                    f"track {tid}: {stsz.type} counts {stsz.get('sample_count')} samples",
                    stsz,
                )
    elst = trak.find("edts/elst")
    if elst is not None and elst.decoded:
        entries = elst.get("entries", [])
        problems = []
        if len(entries) > 1:
            kinds = ["empty" if e["media_time"] == -1 else "media" for e in entries]
            problems.append(f"{len(entries)} entries ({', '.join(kinds)})")
        for e in entries:
            if e["media_time"] != -1 and (e["media_rate_integer"], e["media_rate_fraction"]) != (1, 0):
                problems.append(f"media_rate {e['media_rate_integer']}.{e['media_rate_fraction']}")
        if len(entries) == 1 and entries[0]["media_time"] == -1:
            problems.append("a single empty edit")
        if problems:
            add("BMFF-INIT-07", f"track {tid}: edit list with " + "; ".join(problems), elst)
    return out


def _check_moov(moov: Box, prev: Box | None, st: _State) -> list[Finding]:
    out: list[Finding] = []

    def add(rid: str, msg: str, box: Box, severity: Severity | None = None) -> None:
        out.append(finding(rid, msg, offset=box.offset, box=box.path, severity=severity))

    if prev is None or prev.type != "ftyp":
        add(
            "BMFF-INIT-01",
            "moov is not preceded by ftyp" + (f" (previous box: {prev.type})" if prev else ""),
            moov,
        )
    mvhd = moov.child("mvhd")
    if mvhd is None:
        add("BMFF-INIT-21", "moov has no mvhd", moov)
    elif mvhd.decoded and mvhd.get("timescale") == 0:
        add("BMFF-INIT-12", "mvhd timescale is 0", mvhd)
    mvex = moov.child("mvex")
    if mvex is None:
        add(
            "BMFF-INIT-05",
            "moov has no mvex: this is a progressive (unfragmented) MP4; MSE needs movie "
            "fragments (remux with empty_moov/frag_keyframe, or `msetool fragment`)",
            moov,
        )
    trex = {b.get("track_ID"): b for b in (mvex.all("trex") if mvex else [])}
    tracks: dict[int, TrackDefaults] = {}
    av = 0
    for trak in moov.all("trak"):
        tkhd = trak.child("tkhd")
        if tkhd is None or not tkhd.decoded:
            add("BMFF-INIT-21", "trak has no (readable) tkhd", trak)
            continue
        tid = int(tkhd.get("track_ID", 0))
        if tid in tracks:
            add("GEN-01", f"track_ID {tid} appears twice in this moov", tkhd)
        td = TrackDefaults(tid)
        tracks[tid] = td
        mdhd = trak.find("mdia/mdhd")
        hdlr = trak.find("mdia/hdlr")
        stbl = trak.find("mdia/minf/stbl")
        stsd = stbl.child("stsd") if stbl else None
        if mdhd is None or hdlr is None or stsd is None:
            missing = [
                n
                for n, b in (("mdia/mdhd", mdhd), ("mdia/hdlr", hdlr), ("mdia/minf/stbl/stsd", stsd))
                if b is None
            ]
            add("BMFF-INIT-21", f"track {tid} lacks {', '.join(missing)}", trak)
        td.handler = str(hdlr.get("handler_type", "")) if hdlr else ""
        if mdhd is not None and mdhd.decoded:
            td.timescale = int(mdhd.get("timescale", 0))
            if td.timescale == 0:
                add("BMFF-INIT-12", f"track {tid}: mdhd timescale is 0", mdhd)
        is_av = td.handler in ("vide", "soun")
        av += is_av
        tx = trex.get(tid)
        if mvex is not None:
            if tx is None:
                add("BMFF-INIT-06", f"track {tid} has no trex in mvex", trak)
            elif tx.decoded and tx.get("default_sample_description_index", 0) == 0:
                add("BMFF-INIT-06", f"track {tid}: trex default_sample_description_index is 0", tx)
        if tx is not None:
            td.has_trex = True
            td.default_sample_size = int(tx.get("default_sample_size", 0))
            td.default_sample_flags = int(tx.get("default_sample_flags", 0))
            td.default_sample_duration = int(tx.get("default_sample_duration", 0))
        out.extend(_check_tables(trak, stbl, tid))
        if stsd is not None and is_av:
            td.entries = len(stsd.children)
            out.extend(_check_sample_entries(stsd, td))
    if av == 0 and moov.all("trak"):
        add("GEN-13", "no trak has a 'vide' or 'soun' handler: nothing for MSE to play", moov)
    elif not moov.all("trak"):
        add("GEN-13", "moov has no trak", moov)
    st.tracks = tracks
    st.init_seen = True
    return out


def _check_sample_entries(stsd: Box, td: TrackDefaults) -> list[Finding]:
    out: list[Finding] = []
    if not stsd.children:
        out.append(
            finding(
                "BMFF-INIT-14",
                f"track {td.track_id}: stsd has no sample entry",
                offset=stsd.offset,
                box=stsd.path,
            )
        )
    for entry in stsd.children:
        fourcc = entry.type
        real = fourcc
        if fourcc in ("encv", "enca"):
            td.encrypted = True
            sinf = entry.child("sinf")
            frma = sinf.child("frma") if sinf else None
            schm = sinf.child("schm") if sinf else None
            tenc = sinf.find("schi/tenc") if sinf else None
            if sinf is None or frma is None or schm is None or tenc is None:
                missing = [
                    n
                    for n, b in (("sinf", sinf), ("frma", frma), ("schm", schm), ("schi/tenc", tenc))
                    if b is None
                ]
                out.append(
                    finding(
                        "BMFF-INIT-17",
                        f"track {td.track_id}: {fourcc} lacks {', '.join(missing)}",
                        offset=entry.offset,
                        box=entry.path,
                    )
                )
                continue
            scheme = schm.get("scheme_type", "")
            if scheme not in ("cenc", "cbcs"):
                out.append(
                    finding(
                        "BMFF-INIT-17",
                        f"track {td.track_id}: protection scheme '{scheme}' is not cenc or cbcs",
                        offset=schm.offset,
                        box=schm.path,
                    )
                )
            iv = tenc.get("default_Per_Sample_IV_Size", 0)
            td.iv_size = int(iv)
            if iv not in (0, 8, 16):
                out.append(
                    finding(
                        "BMFF-INIT-17",
                        f"track {td.track_id}: tenc Per_Sample_IV_Size {iv} is not 0, 8 or 16",
                        offset=tenc.offset,
                        box=tenc.path,
                    )
                )
            real = str(frma.get("data_format", fourcc))
        if real not in SUPPORTED:
            out.append(
                finding(
                    "BMFF-INIT-13",
                    f"track {td.track_id}: sample entry '{real}' is not a codec MSE browsers decode in MP4",
                    offset=entry.offset,
                    box=entry.path,
                )
            )
            continue
        if real in PLATFORM_GATED:
            out.append(
                finding(
                    "BMFF-INIT-22",
                    f"track {td.track_id}: '{real}' decodes only where the platform provides a decoder",
                    offset=entry.offset,
                    box=entry.path,
                )
            )
        cfg_name = VIDEO_CONFIG.get(real) or AUDIO_CONFIG.get(real)
        if cfg_name is None:
            continue
        cfg = entry.child(cfg_name)
        if cfg is None:
            out.append(
                finding(
                    "BMFF-INIT-14",
                    f"track {td.track_id}: '{real}' sample entry has no {cfg_name} configuration box",
                    offset=entry.offset,
                    box=entry.path,
                )
            )
            continue
        if not cfg.decoded:
            out.append(
                finding(
                    "BMFF-INIT-14",
                    f"track {td.track_id}: {cfg_name} could not be decoded",
                    offset=cfg.offset,
                    box=cfg.path,
                )
            )
            continue
        # Opus: only single-stream packets (mapping family 0): multistream packets self-delimit all but
        # their last stream, which the RFC 6716 §3.4 rules alone do not describe
        single = real != "Opus" or cfg.fields.get("ChannelMappingFamily", 0) == 0
        if real in ("vp09", "av01", "Opus") and not td.frame_codec and single:
            td.frame_codec = real
        if cfg.type == "esds" and td.aac is None:
            asc = cfg.fields.get("AudioSpecificConfig")
            if asc is not None and cfg.fields.get("objectTypeIndication") == 0x40:
                with contextlib.suppress(Exception):
                    td.aac = (int(asc.audioObjectType), int(asc.channelConfiguration))
        if cfg.type == "avcC" and td.avc_length == 0:
            with contextlib.suppress(Exception):
                td.avc_length = int(cfg.fields["lengthSizeMinusOne"]) + 1
                sps_ids = frozenset(
                    sps_id(bytes(p)) for p in cfg.fields.get("sequenceParameterSets", []) if len(p) > 4
                )
                td.avc_sps = sps_ids
                # a PPS whose SPS does not exist is dropped by the decoder
                td.avc_pps = frozenset(
                    ids[0]
                    for p in cfg.fields.get("pictureParameterSets", [])
                    if len(p) > 1 and (ids := pps_ids(bytes(p)))[1] in sps_ids
                )
                w, h = int(entry.get("width") or 0), int(entry.get("height") or 0)
                td.avc_mbs = ((w + 15) // 16) * ((h + 15) // 16)
        out.extend(_check_config(real, entry, cfg, td))
    return out


def undecodable_avc_frame(sample: bytes, td: TrackDefaults) -> str | None:
    """BMFF-MEDIA-33's H.264 predicate (:mod:`msetool.codecs.decodable`) with the track's avcC facts."""
    return decodable.undecodable_avc_frame(sample, td.avc_length, td.avc_pps, td.avc_mbs, td.avc_sps)


def _check_config(real: str, entry: Box, cfg: Box, td: TrackDefaults) -> list[Finding]:
    out: list[Finding] = []

    def bad(msg: str) -> None:
        out.append(finding("BMFF-INIT-14", f"track {td.track_id}: {msg}", offset=cfg.offset, box=cfg.path))

    f = cfg.fields
    if cfg.type == "avcC":
        if f.get("configurationVersion") != 1:
            bad(f"avcC configurationVersion is {f.get('configurationVersion')}, not 1")
        if f.get("lengthSizeMinusOne") == 2:
            bad("avcC lengthSizeMinusOne is 2 (3-byte NAL lengths are not allowed)")
        sps = f.get("sequenceParameterSets", [])
        if real == "avc1" and not sps:
            out.append(
                finding(
                    "BMFF-INIT-14",
                    f"track {td.track_id}: avc1 (out-of-band parameter sets) but avcC holds no SPS: "
                    "decoding depends on parameter sets inside the samples",
                    offset=cfg.offset,
                    box=cfg.path,
                    severity=Severity.WARNING,
                )
            )
        if any(len(s) == 0 for s in sps):
            bad("avcC holds an empty SPS")
    elif cfg.type == "hvcC":
        if f.get("configurationVersion") not in (0, 1):
            bad(f"hvcC configurationVersion is {f.get('configurationVersion')}")
    elif cfg.type == "av1C":
        if f.get("marker") != 1:
            bad("av1C marker bit is not set")
        if f.get("version") != 1:
            bad(f"av1C version is {f.get('version')}, not 1")
        if f.get("seq_profile", 0) > 2:
            bad(f"av1C seq_profile {f.get('seq_profile')} is not 0-2")
    elif cfg.type == "esds":
        if "objectTypeIndication" not in f:
            bad("esds has no DecoderConfigDescriptor")
        elif f.get("objectTypeIndication") == 0x40 and "AudioSpecificConfig_error" in f:
            bad(f"AudioSpecificConfig: {f['AudioSpecificConfig_error']}")
    elif cfg.type == "dOps":
        ch = entry.get("channelcount")
        if f.get("OutputChannelCount") != ch:
            bad(
                f"Opus channelcount {ch} in the sample entry mismatches dOps OutputChannelCount "
                f"{f.get('OutputChannelCount')}"
            )
    elif cfg.type == "dfLa":
        ch, ss = entry.get("channelcount"), entry.get("samplesize")
        if f.get("channels") != ch:
            bad(f"FLAC channelcount {ch} mismatches dfLa STREAMINFO channels {f.get('channels')}")
        if f.get("bits_per_sample") != ss:
            bad(f"FLAC samplesize {ss} mismatches dfLa STREAMINFO bits per sample {f.get('bits_per_sample')}")
    return out


def _sample_sizes(trun: Box, tfhd: Box | None, td: TrackDefaults | None) -> tuple[int, int]:
    """(total bytes, zero-size samples) the trun references."""
    return _run_sizes(trun.fields, tfhd.fields if tfhd is not None else None, td)


def _run_sizes(tf: dict[str, Any], hf: dict[str, Any] | None, td: TrackDefaults | None) -> tuple[int, int]:
    """:func:`_sample_sizes` over the decoded fields of a trun and its tfhd."""
    n = int(tf.get("sample_count", 0))
    col = tf.get("sample_size")
    if isinstance(col, list):
        return sum(col), col.count(0)
    size = 0
    if hf is not None and hf.get("default_sample_size"):
        size = int(hf["default_sample_size"])
    elif td is not None:
        size = td.default_sample_size
    return n * size, (n if size == 0 else 0)


Span = tuple[int, int, int]  # (start, end, track_ID) of one trun's sample data, stream offsets


def trun_spans(moof: Box, tracks: dict[int, TrackDefaults], *, iso: bool) -> list[Span] | None:
    """Where each trun's sample data lies, read the ISO BMFF way (8.8.7.1: without base-data-offset and
    default-base-is-moof, the first traf is based at the moof and each later traf at the end of the data of
    the one before; a trun without data_offset follows the previous trun) or Chromium's way (every trun at
    moof start + data_offset, read as unsigned; no data_offset: the moof start). None when a traf or trun
    could not be read."""
    spans: list[Span] = []
    prev_end: int | None = None
    for traf in moof.all("traf"):
        tfhd = traf.child("tfhd")
        if tfhd is None or not tfhd.decoded:
            return None
        tid = int(tfhd.get("track_ID", 0))
        if "base_data_offset" in tfhd.fields:
            base = int(tfhd.get("base_data_offset", 0))
        elif iso and not tfhd.get("default_base_is_moof") and prev_end is not None:
            base = prev_end
        else:
            base = moof.offset
        pos = base
        traf_end: int | None = None
        for trun in traf.all("trun"):
            if not trun.decoded:
                return None
            if "data_offset" in trun.fields:
                off = int(trun.get("data_offset", 0))
                pos = base + (off if iso or off >= 0 else off + (1 << 32))
            elif not iso:
                pos = base
            nbytes, _zeros = _sample_sizes(trun, tfhd, tracks.get(tid))
            if nbytes:
                spans.append((pos, pos + nbytes, tid))
                traf_end = pos + nbytes if traf_end is None else max(traf_end, pos + nbytes)
            pos += nbytes
        if traf_end is not None:
            prev_end = traf_end
    return spans


def _consistent(spans: list[Span], mdats: list[Box]) -> bool:
    """Every run inside one mdat payload, no two runs sharing a byte: offsets a muxer wrote that way."""
    if not spans or not mdats:
        return False
    for a, b, _t in spans:
        if not any(m.payload_offset <= a and b <= m.end for m in mdats):
            return False
    ordered = sorted(spans)
    return all(n[0] >= p[1] for p, n in itertools.pairwise(ordered))


def addressed_per_iso(moof: Box, mdats: list[Box], tracks: dict[int, TrackDefaults]) -> str | None:
    """A message when the muxer evidently addressed the trafs the ISO way and Chromium reads other bytes:
    the ISO reading lays every run inside the mdat without overlap and Chromium's moof-relative reading
    does not (the writer meant ISO, so Chromium decodes garbage). None otherwise: the offsets agree, only
    make sense moof-relative (Chromium plays it; a spec-following UA would not), or fit neither reading."""
    iso = trun_spans(moof, tracks, iso=True)
    chromium = trun_spans(moof, tracks, iso=False)
    if iso is None or chromium is None or iso == chromium:
        return None
    if not _consistent(iso, mdats) or _consistent(chromium, mdats):
        return None
    for (a, b, tid), (c, d, _t) in zip(iso, chromium, strict=True):
        if (a, b) != (c, d):
            return (
                f"track {tid}: the tfhds lack default-base-is-moof and the data offsets follow ISO BMFF "
                f"(each traf's data counted from the end of the previous traf's): its samples are at "
                f"[{a}, {b}), Chromium reads them from [{c}, {d}) (moof start + data_offset), which is not "
                "its data, so the decoder fails (PIPELINE_ERROR_DECODE) once they play"
            )
    return None


def _check_trun_data(
    moof: Box,
    trun: Box,
    *,
    tfhd: Box,
    td: TrackDefaults | None,
    tid: int,
    data_range: tuple[int, int] | None,
    run_end: int,
    ends_with_abort: bool,
    sizes: tuple[int, int] | None = None,
) -> list[Finding]:
    """The bytes a trun references must lie in the mdat(s) after its moof (BMFF-MEDIA-01/11); ``sizes`` is
    :func:`_sample_sizes` of the trun when the caller has it already."""
    out: list[Finding] = []
    data_start, data_end = data_range if data_range else (None, None)
    n = int(trun.get("sample_count", 0))

    def add(rid: str, msg: str, box: Box) -> None:
        # Chromium reads the bytes wherever the offsets point: whether that fails depends on the codec,
        # which the stream parser decides; here it is a spec violation and a warning.
        sev = Severity.WARNING if rid in ("BMFF-MEDIA-01", "BMFF-MEDIA-11") else None
        out.append(finding(rid, msg, offset=box.offset, box=box.path, severity=sev))

    start = moof.offset + int(trun.get("data_offset", 0))
    nbytes, zeros = _sample_sizes(trun, tfhd, td) if sizes is None else sizes
    if zeros:
        add("BMFF-MEDIA-19", f"track {tid}: {zeros} sample{'s' if zeros > 1 else ''} of size 0", trun)
    if n == 0 or nbytes == 0:
        return out
    end = start + nbytes
    if data_start is None or data_end is None:
        if end > run_end:
            if not ends_with_abort:
                add(
                    "GEN-TRUNC-01",
                    f"track {tid}: the stream ends before the mdat holding this moof's samples",
                    trun,
                )
        else:
            add(
                "BMFF-MEDIA-01",
                f"track {tid}: no mdat follows the moof, yet the trun references "
                f"{nbytes} bytes at offset {start}",
                trun,
            )
    elif start < data_start or end > data_end:
        if end > run_end and start >= data_start:
            if not ends_with_abort:
                add(
                    "GEN-TRUNC-01",
                    f"track {tid}: the stream ends inside the mdat (samples up to offset "
                    f"{end}, data ends at {run_end})",
                    trun,
                )
        else:
            where = "before the mdat payload" if start < data_start else "past the end of the mdat"
            add(
                "BMFF-MEDIA-11",
                f"track {tid}: trun data [{start}, {end}) lies {where} [{data_start}, {data_end})",
                trun,
            )
    return out


def _first_frame_pending(td: TrackDefaults, tfdt: Box) -> bool:
    """False when :func:`_first_frame` would return None before reading anything (the usual case: a
    later fragment of a track whose first frame was checked), so the per-traf call can be skipped."""
    return _first_frame_due(td, tfdt.fields.get("base_media_decode_time", 0) if tfdt.decoded else 0)


def _first_frame_due(td: TrackDefaults, bmdt: Any) -> bool:
    """:func:`_first_frame_pending` given the traf's baseMediaDecodeTime."""
    if not (td.avc_length or td.aac or td.frame_codec) or td.encrypted or not td.timescale:
        return False
    checked = td.first_checked
    return checked is None or not (isinstance(bmdt, int) and bmdt >= checked)


def _first_frame(
    moof: Box, traf: Box, tfhd: Box, td: TrackDefaults, *, source: ByteSource, run_end: int
) -> Finding | None:
    """BMFF-MEDIA-33 for the frames a paused element decodes first (preroll): the first H.264 frame, or
    the AAC frames of the first 150 ms, of the track's earliest fragment, read where Chromium reads them."""
    if not (td.avc_length or td.aac or td.frame_codec) or td.encrypted or not td.timescale:
        return None
    tfdt = traf.child("tfdt")
    bmdt = int(tfdt.get("base_media_decode_time", 0)) if tfdt is not None and tfdt.decoded else 0
    if td.first_checked is not None and bmdt >= td.first_checked:
        return None
    td.first_checked = bmdt
    if bmdt >= td.timescale:
        # SourceBufferStream::ShouldSeekToStartOfBuffered: the element (at 0) starts from the first
        # buffered range only when it begins before kSeekToStartFudgeRoom (1 s); a range that starts
        # later is never decoded while paused (verified: a broken first frame at 1 s or 2 s is no error).
        return None
    trun = next((t for t in traf.all("trun") if t.decoded and t.get("sample_count", 0)), None)
    if trun is None:
        return None
    n = int(trun.get("sample_count", 0))
    sizes = trun.get("sample_size")
    durs = trun.get("sample_duration")
    d_size = int(tfhd.get("default_sample_size") or td.default_sample_size)
    d_dur = int(tfhd.get("default_sample_duration") or td.default_sample_duration)
    off = int(trun.get("data_offset", 0))
    pos = moof.offset + (off if off >= 0 else off + (1 << 32))
    # Chromium's audio renderer prerolls about 200 ms (verified: a broken AAC frame at 192 ms fails, one at
    # 512 ms does not); the video renderer at least the first frame.
    audio = td.aac is not None or td.frame_codec == "Opus"
    horizon = td.timescale * 15 // 100 if audio else 0
    t = 0
    trex = {"default_sample_flags": td.default_sample_flags}
    started = audio  # video: coded frame processing drops frames before the first sync one
    for k in range(min(n, 64)):
        size = int(sizes[k]) if isinstance(sizes, list) else d_size
        if size <= 0 or size > 8 << 20 or pos + size > run_end:
            return None
        if not started:
            started = not sample_flags_of(k, trun, tfhd, trex) & SAMPLE_IS_NON_SYNC
            if not started:
                pos += size
                t += int(durs[k]) if isinstance(durs, list) else d_dur
                if bmdt + t >= td.timescale:
                    return None
                continue
        data = source.read_at(pos, size)
        if td.aac is not None:
            why = undecodable_aac_frame(data, *td.aac)
            kind = "AAC"
        elif td.frame_codec == "vp09":
            why, kind = undecodable_vp9_frame(data), "VP9"
        elif td.frame_codec == "av01":
            why, kind = undecodable_av1_frame(data), "AV1"
        elif td.frame_codec == "Opus":
            why, kind = undecodable_opus_frame(data), "Opus"
        else:
            why = undecodable_avc_frame(data, td)
            kind = "H.264"
        if why is not None:
            return finding(
                "BMFF-MEDIA-33",
                f"track {td.track_id}: {kind} frame {k} (decode time {bmdt + t}), decoded before playback "
                f"starts, cannot be decoded: {why}; the media element fails with PIPELINE_ERROR_DECODE",
                offset=trun.offset,
                box=trun.path,
            )
        pos += size
        t += int(durs[k]) if isinstance(durs, list) else d_dur
        if t >= horizon or (not isinstance(durs, list) and not d_dur):
            break
    return None


def _check_traf(  # noqa: PLR0917
    moof: Box,
    traf: Box,
    st: _State,
    ranges: list[tuple[int, int, int, Box]],
    data_range: tuple[int, int] | None,
    run_end: int,
    ends_with_abort: bool,
    source: ByteSource | None,
    timeline: bool,
    out: list[Finding],
) -> bool:
    """One traf of :func:`_check_moof`: findings go to ``out``, its runs' byte ranges to ``ranges``.
    Returns whether its tfhd lacks default-base-is-moof."""

    def add(rid: str, msg: str, box: Box, severity: Severity | None = None) -> None:
        out.append(finding(rid, msg, offset=box.offset, box=box.path, severity=severity))

    tfhd = tfdt = senc = saiz = None
    truns: list[Box] = []
    for c in traf.children:  # one pass instead of a child() scan per box type
        ct = c.type
        if ct == "trun":
            truns.append(c)
        elif ct == "tfhd":
            tfhd = tfhd or c
        elif ct == "tfdt":
            tfdt = tfdt or c
        elif ct == "senc":
            senc = senc or c
        elif ct == "saiz":
            saiz = saiz or c
    if tfhd is None or not tfhd.decoded:
        add("BMFF-INIT-21", "traf has no (readable) tfhd", traf)
        return False
    hf = tfhd.fields
    tid = int(hf.get("track_ID", 0))
    td = st.tracks.get(tid)
    if st.init_seen and td is None:
        add(
            "BMFF-MEDIA-13",
            f"tfhd track_ID {tid} is not a track of the initialization segment "
            f"(tracks: {', '.join(str(t) for t in sorted(st.tracks)) or 'none'})",
            tfhd,
        )
    if "base_data_offset" in hf:
        add(
            "BMFF-MEDIA-07",
            f"track {tid}: tfhd sets base-data-offset-present "
            "(MSE requires movie-fragment relative addressing)",
            tfhd,
        )
    sdi = hf.get("sample_description_index")
    if td is not None and sdi is not None and td.entries and not 1 <= sdi <= td.entries:
        add("BMFF-MEDIA-29", f"track {tid}: sample_description_index {sdi}, stsd has {td.entries}", tfhd)
    if (td is not None and source is not None and timeline and tfdt is not None
            and _first_frame_pending(td, tfdt)):
        with contextlib.suppress(Exception):
            ff = _first_frame(moof, traf, tfhd, td, source=source, run_end=run_end)
            if ff is not None:
                out.append(ff)
    if tfdt is None:
        add(
            "BMFF-MEDIA-10",
            f"track {tid}: traf has no tfdt (baseMediaDecodeTime); MSE cannot place "
            "its samples on the timeline",
            traf,
        )
    total_samples = 0
    no_base_flag = not hf.get("default_base_is_moof")
    for k, trun in enumerate(truns):
        if not trun.decoded:
            continue
        rf = trun.fields
        n = int(rf.get("sample_count", 0))
        total_samples += n
        if "data_offset" not in rf:
            if k == 0:
                add(
                    "BMFF-MEDIA-08",
                    f"track {tid}: the first trun has no data_offset (movie-fragment "
                    "relative addressing requires it)",
                    trun,
                )
            else:
                add("BMFF-MEDIA-08", f"track {tid}: trun {k} has no data_offset", trun)
            continue
        sizes = _sample_sizes(trun, tfhd, td)
        nbytes = sizes[0]
        if nbytes:
            start = moof.offset + int(rf.get("data_offset", 0))
            ranges.append((start, start + nbytes, tid, trun))
        out.extend(
            _check_trun_data(
                moof,
                trun,
                tfhd=tfhd,
                td=td,
                tid=tid,
                data_range=data_range,
                run_end=run_end,
                ends_with_abort=ends_with_abort,
                sizes=sizes,
            )
        )
        vcol = rf.get("sample_composition_time_offset")
        if trun.version == 0 and isinstance(vcol, list) and vcol and max(vcol) >= 0x80000000:
            add("BMFF-MEDIA-15", f"track {tid}: composition offsets >= 2^31 in a version 0 trun", trun)
        out.extend(_check_flags(trun, tfhd, td, tid))
    if senc is not None and senc.decoded and senc.get("sample_count") != total_samples:
        add(
            "BMFF-MEDIA-22",
            f"track {tid}: senc has {senc.get('sample_count')} entries for {total_samples} samples",
            senc,
        )
    elif td is not None and td.encrypted and senc is None and saiz is None and total_samples:
        add(
            "BMFF-MEDIA-22",
            f"track {tid}: encrypted track without senc or saiz/saio in the traf",
            traf,
            severity=Severity.WARNING,
        )
    return no_base_flag


def _check_moof(
    moof: Box,
    mdats: list[Box],
    st: _State,
    run_end: int,
    ends_with_abort: bool,
    *,
    source: ByteSource | None = None,
    timeline: bool = True,
) -> list[Finding]:
    out: list[Finding] = []

    def add(rid: str, msg: str, box: Box, severity: Severity | None = None) -> None:
        out.append(finding(rid, msg, offset=box.offset, box=box.path, severity=severity))

    mfhd = moof.child("mfhd")
    if mfhd is None:
        add("BMFF-MEDIA-27", "moof has no mfhd", moof)
    elif mfhd.decoded:
        seq = int(mfhd.get("sequence_number", 0))
        if st.last_sequence is not None and seq <= st.last_sequence:
            word = "repeats" if seq == st.last_sequence else "decreases"
            add("BMFF-MEDIA-23", f"sequence_number {seq} {word} (previous moof: {st.last_sequence})", mfhd)
        st.last_sequence = seq
    trafs = moof.all("traf")
    if not trafs:
        add("BMFF-MEDIA-06", "moof has no traf: the fragment carries no samples", moof)
    if len(trafs) > 1 and not all(
        t.child("tfhd") and t.child("tfhd").get("default_base_is_moof")  # type: ignore[union-attr]
        for t in trafs
    ):
        meant_iso = addressed_per_iso(moof, mdats, st.tracks)
        if meant_iso is not None:
            add("BMFF-MEDIA-32", meant_iso, moof)
        else:
            add("BMFF-MEDIA-07W", f"{len(trafs)} trafs and not every tfhd sets default-base-is-moof", moof)
    ranges: list[tuple[int, int, int, Box]] = []
    no_base_flag = False
    data_range = (min(m.payload_offset for m in mdats), max(m.end for m in mdats)) if mdats else None
    for traf in trafs:
        if _check_traf(moof, traf, st, ranges, data_range, run_end, ends_with_abort, source, timeline, out):
            no_base_flag = True
    out.extend(_check_overlaps(ranges, several_trafs=len(trafs) > 1 and no_base_flag))
    return out


def _check_overlaps(ranges: list[tuple[int, int, int, Box]], *, several_trafs: bool) -> list[Finding]:
    """Runs whose bytes (read the way Chromium does: moof start + data_offset) overlap decode the same bytes
    twice, so at least one of them decodes garbage."""
    out: list[Finding] = []
    if len(ranges) < 2:
        return out
    ranges.sort(key=lambda r: r[0])
    for (s1, e1, t1, _b1), (s2, e2, t2, b2) in itertools.pairwise(ranges):
        if s2 < e1:
            why = (
                (
                    " (the trafs lack default-base-is-moof: the muxer addressed each traf's data from "
                    "the end of the previous one, Chromium reads every data_offset from the moof)"
                )
                if several_trafs
                else ""
            )
            out.append(
                finding(
                    "BMFF-MEDIA-31",
                    f"track {t2}: trun data [{s2}, {e2}) overlaps track {t1}'s [{s1}, {e1}){why}",
                    offset=b2.offset,
                    box=b2.path,
                )
            )
            break
    return out


def _flag_counts(tf: dict[str, Any], hf: dict[str, Any], td: TrackDefaults | None) -> tuple[int, int]:
    """(samples with sample_depends_on 3, audio samples flagged non-sync) of a trun, from its fields and its
    tfhd's. Flag words repeat (a few distinct values per run): each distinct value is tested once, and the
    matches counted only when one matches."""
    flags_col: Any = tf.get("sample_flags")
    audio = td is not None and td.handler == "soun"
    if isinstance(flags_col, list):
        reserved = nonsync = 0
        for v in set(flags_col):
            if (v >> 24) & 3 == 3:
                reserved = sum(1 for v in flags_col if (v >> 24) & 3 == 3)
                break
        if audio:
            for v in set(flags_col):
                if (v >> 16) & 1:
                    nonsync = sum(1 for v in flags_col if (v >> 16) & 1)
                    break
        return reserved, nonsync
    # Without per-sample flags the (at most 2^16) samples counted carry the default, the first one
    # first_sample_flags when present.
    n = min(int(tf.get("sample_count", 0)), 1 << 16)
    if not n:
        return 0, 0
    first = tf.get("first_sample_flags")
    default = hf.get("default_sample_flags")
    if default is None and td is not None:
        default = td.default_sample_flags
    default = default or 0
    head = default if first is None else first
    reserved = ((head >> 24) & 3 == 3) + (n - 1) * ((default >> 24) & 3 == 3)
    nonsync = ((head >> 16) & 1) + (n - 1) * ((default >> 16) & 1) if audio else 0
    return reserved, nonsync


def _check_flags(trun: Box, tfhd: Box, td: TrackDefaults | None, tid: int) -> list[Finding]:
    reserved, nonsync = _flag_counts(trun.fields, tfhd.fields, td)
    out: list[Finding] = []
    if reserved:
        out.append(
            finding(
                "BMFF-MEDIA-16",
                f"track {tid}: {reserved} sample(s) with sample_depends_on = 3",
                offset=trun.offset,
                box=trun.path,
            )
        )
    if nonsync:
        out.append(
            finding(
                "BMFF-MEDIA-20",
                f"track {tid}: {nonsync} audio sample(s) flagged sample_is_non_sync_sample",
                offset=trun.offset,
                box=trun.path,
            )
        )
    return out


# --- the common moof, checked without a box tree
#
# Nearly every moof of a long stream is the same few boxes (mfhd, then per track a traf of tfhd, tfdt and
# truns) and yields no finding. For those the checker reads the fields straight from the bytes with the
# decoders' own fast paths and proves that none of the rules above can fire; anything else (another box,
# a box that does not tile its parent, a field that does not decode, any condition a rule reports, a first
# frame still to be checked) falls back to the box tree and the rules above, so findings never differ.

_HDR = struct.Struct(">I4s")
#: (mfhd fields, [(tfhd fields, tfdt fields, [trun fields, ...]), ...]) of a moof in the common shape
PlainMoof = tuple[dict[str, Any], list[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]]


def _plain_traf(
    data: bytes, pos: int, end: int
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]] | None:
    tfhd: dict[str, Any] | None = None
    tfdt: dict[str, Any] | None = None
    truns: list[dict[str, Any]] = []
    fast = FAST_DECODERS
    while pos < end:
        if end - pos < 8:
            return None
        size, raw = _HDR.unpack_from(data, pos)
        box_end = pos + size
        if size < 8 or box_end > end:
            return None
        f: dict[str, Any] = {}
        if raw == b"trun":
            truns.append(f)
        elif raw == b"tfhd" and tfhd is None:
            tfhd = f
        elif raw == b"tfdt" and tfdt is None:
            tfdt = f
        else:
            return None
        if not fast[raw.decode("latin-1")](data, pos + 8, box_end, f):
            return None
        pos = box_end
    if tfhd is None or tfdt is None:
        return None
    return tfhd, tfdt, truns


def plain_moof(moof: Box, data: bytes) -> PlainMoof | None:
    """The fields of a moof (``data`` is the whole box) made only of one mfhd and trafs holding one tfhd,
    one tfdt and truns, every box tiling its parent and every field readable; None for any other moof.
    Reading such a moof into a tree would report no structural issue."""
    if moof.truncated or len(data) != moof.size:
        return None
    pos, end = moof.header_size, len(data)
    mfhd: dict[str, Any] | None = None
    trafs = []
    while pos < end:
        if end - pos < 8:
            return None
        size, raw = _HDR.unpack_from(data, pos)
        box_end = pos + size
        if size < 8 or box_end > end:
            return None
        if raw == b"traf":
            traf = _plain_traf(data, pos + 8, box_end)
            if traf is None:
                return None
            trafs.append(traf)
        elif raw == b"mfhd" and mfhd is None:
            mfhd = {}
            if not FAST_DECODERS["mfhd"](data, pos + 8, box_end, mfhd):
                return None
        else:
            return None
        pos = box_end
    if mfhd is None:
        return None
    return mfhd, trafs


def _plain_moof_clean(
    plain: PlainMoof, moof: Box, mdats: list[Box], st: _State, *, source: ByteSource | None, timeline: bool
) -> bool:
    """Whether :func:`_check_moof` on this moof would return no finding and change no state but the
    sequence number (recorded here when True). Mirrors its rules condition by condition."""
    mfhd, trafs = plain
    seq = mfhd["sequence_number"]
    if st.last_sequence is not None and seq <= st.last_sequence:
        return False  # BMFF-MEDIA-23
    if not trafs or not mdats:
        return False  # BMFF-MEDIA-06; without an mdat every run with bytes is a finding
    if len(trafs) > 1 and not all(hf["default_base_is_moof"] for hf, _, _ in trafs):
        return False  # BMFF-MEDIA-07W / 32
    if len(mdats) == 1:
        data_start, data_end = mdats[0].payload_offset, mdats[0].end
    else:
        data_start = min(m.payload_offset for m in mdats)
        data_end = max(m.end for m in mdats)
    ranges: list[tuple[int, int]] = []
    for hf, tdf, truns in trafs:
        td = st.tracks.get(hf["track_ID"])
        if td is None or "base_data_offset" in hf:
            return False  # BMFF-MEDIA-13, BMFF-MEDIA-07
        sdi = hf.get("sample_description_index")
        if sdi is not None and td.entries and not 1 <= sdi <= td.entries:
            return False  # BMFF-MEDIA-29
        if source is not None and timeline and _first_frame_due(td, tdf["base_media_decode_time"]):
            return False  # BMFF-MEDIA-33 reads the first frame (and records it)
        total = 0
        for tf in truns:
            total += tf["sample_count"]
            if "data_offset" not in tf:
                return False  # BMFF-MEDIA-08
            nbytes, zeros = _run_sizes(tf, hf, td)
            if zeros:
                return False  # BMFF-MEDIA-19
            if nbytes:
                start = moof.offset + tf["data_offset"]
                if start < data_start or start + nbytes > data_end:
                    return False  # BMFF-MEDIA-11 / GEN-TRUNC-01
                ranges.append((start, start + nbytes))
            ctos = tf.get("sample_composition_time_offset")
            if tf["version"] == 0 and ctos and max(ctos) >= 0x80000000:
                return False  # BMFF-MEDIA-15
            if _flag_counts(tf, hf, td) != (0, 0):
                return False  # BMFF-MEDIA-16 / 20
        if td.encrypted and total:
            return False  # BMFF-MEDIA-22 (no senc or saiz in a plain traf)
    if len(ranges) > 1:
        ranges.sort()
        if any(b[0] < a[1] for a, b in itertools.pairwise(ranges)):
            return False  # BMFF-MEDIA-31
    st.last_sequence = seq
    return True


#: top-level boxes whose fields no rule reads (only whether they decode): see :func:`_decodes_cleanly`
_UNREAD = frozenset({"styp", "sidx"})


def _decodes_cleanly(box: Box, data: bytes) -> bool:
    """Whether the reader's decoder of this styp or sidx (``data`` is the whole box) would decode it without
    an issue, from its lengths alone: then the checker need not decode it (it reads none of its fields).
    Mirrors the decoders' reads: styp a major brand and minor version (brands never fail); sidx version and
    flags, reference_ID, timescale, two times (32 or 64 bits), 2 reserved bytes, reference_count and
    12 bytes per reference."""
    hs = box.header_size
    payload = len(data) - hs
    if box.type == "styp":
        return payload >= 8
    if payload < 4:
        return False
    head = 12 + (8 if data[hs] == 0 else 16) + 4
    return payload >= head and ((data[hs + head - 2] << 8) | data[hs + head - 1]) * 12 <= payload - head


#: the top-level boxes of a fragment, which :func:`_top_boxes` walks itself: raw type -> (type, whether
#: :func:`iter_boxes` reads and decodes its payload)
_WALKED = {
    t.encode(): (t, t not in SKIP_PAYLOAD and (t in DECODERS or t in CHILDREN))
    for t in ("styp", "sidx", "moof", "mdat")
}


#: bytes :func:`_top_boxes` reads at a box header (a fragment's styp, sidx, moof and mdat header fit)
_BLOCK = 4096


def _top_boxes(
    source: ByteSource, issues: list[BoxIssue], take: Callable[[Box, bytes], bool]
) -> Iterator[Box]:
    """``iter_boxes(source, issues=issues, take=take)``, with the boxes every fragment is made of read here.

    A styp, sidx, moof or mdat with a plain 32-bit header that fits in the data is the box iter_boxes
    yields for it (same path, same read, ``take`` or decoding), without the checks such a box passes
    anyway; any other box is iter_boxes' own first step from there (sharing the counts that number the
    paths), so issues and the walk's end stay its own. Thousands of fragments in a run make its per-box
    generality most of the checker's walk."""
    counts: dict[str, int] = {}
    total = source.size
    read = source.read_at
    unpack = _HDR.unpack_from
    # the bytes of one read of up to _BLOCK at a box header: the headers and boxes after it inside them are
    # sliced from it (the same bytes a read of each would return)
    block, block_at = b"", 0
    pos = 0
    while pos < total:
        at = pos - block_at
        if at + 8 > len(block):
            block, block_at, at = read(pos, _BLOCK), pos, 0
        if len(block) - at >= 8:
            size, raw = unpack(block, at)
            walked = _WALKED.get(raw)
            if walked is not None and 8 <= size <= total - pos and size <= DEFAULT_MAX_DECODE:
                t, decode = walked
                idx = counts.get(t, 0)
                counts[t] = idx + 1
                box = Box(t, pos, size, 8, f"{t}[{idx}]" if idx or t in INDEXED else t)
                if decode:
                    data = block[at : at + size] if at + size <= len(block) else read(pos, size)
                    if not take(box, data):
                        decode_payload(box, data, 0, len(data), base=pos, issues=issues, depth=0,
                                       declared_end=size)
                yield box
                pos += size
                continue
        other = next(iter_boxes(source, pos, issues=issues, counts=counts, take=take), None)
        if other is None:
            return
        yield other
        if other.truncated:
            return
        pos += other.size


def check_stream(ctx: CheckContext) -> list[Finding]:
    """Every ISO BMFF byte stream rule over one run (see :mod:`msetool.rules.engine` for the contract)."""
    st: _State = ctx.state.setdefault("bmff", _State())
    out: list[Finding] = []
    issues: list[BoxIssue] = []
    size = ctx.source.size
    prev: Box | None = None
    pending_moof: Box | None = None
    pending_mdats: list[Box] = []
    #: the bytes and fields of the last moof read without a tree (:func:`plain_moof`)
    taken: tuple[Box, bytes, PlainMoof] | None = None
    pending_plain: tuple[Box, bytes, PlainMoof] | None = None
    timeline = ctx.options.raw_timeline  # timestampOffset/sequence mode: start time unknown

    def take(box: Box, data: bytes) -> bool:
        nonlocal taken
        if box.type != "moof":
            # no rule reads a styp's or sidx's fields, only a decoding issue would say something
            return box.type in _UNREAD and not box.truncated and _decodes_cleanly(box, data)
        plain = plain_moof(box, data)
        if plain is None:
            return False
        taken = (box, data, plain)
        return True

    def close_moof() -> None:
        nonlocal pending_moof, pending_mdats, pending_plain
        if pending_plain is not None and pending_plain[0] is pending_moof:
            moof, data, plain = pending_plain
            pending_plain = None
            if _plain_moof_clean(plain, moof, pending_mdats, st, source=ctx.source, timeline=timeline):
                pending_moof, pending_mdats = None, []
                return
            # A rule has something to say: read the tree after all (a plain moof reads without issues).
            decode_payload(moof, data, 0, len(data), base=moof.offset, issues=issues, depth=0,
                           declared_end=moof.size)
        if pending_moof is not None and not pending_moof.truncated:
            out.extend(
                _check_moof(
                    pending_moof,
                    pending_mdats,
                    st,
                    size,
                    ctx.ends_with_abort,
                    source=ctx.source,
                    timeline=timeline,
                )
            )
        pending_moof, pending_mdats = None, []

    cut: Box | None = None
    for box in _top_boxes(ctx.source, issues, take):
        t = box.type
        if box.truncated and box.size <= MAX_BOX_SIZE:
            # The data ends inside this box: Chromium waits for the rest (an abort() discards it) and never
            # parses it, so what the missing bytes would have held (mvex, a tfhd field, ...) is no finding,
            # and neither is its type.
            cut = box
            if t == "mdat" and pending_moof is not None:
                pending_mdats.append(box)
            break
        if t not in TOP_LEVEL:
            out.append(
                finding(
                    "BMFF-INIT-09",
                    f"top-level box type '{t}' is not one a browser accepts",
                    offset=box.offset,
                    box=box.path,
                )
            )
        if t == "mdat":
            if pending_moof is not None:
                pending_mdats.append(box)
            elif prev is None or prev.type != "mdat":
                out.append(
                    finding(
                        "BMFF-MEDIA-28",
                        "mdat with no moof before it: browsers skip it",
                        offset=box.offset,
                        box=box.path,
                    )
                )
            prev = box
            continue
        if t in ("moof", "moov", "styp", "ftyp", "sidx", "emsg", "prft", "ssix"):
            close_moof()
        if t == "moov":
            out.extend(_check_moov(box, prev, st))
        elif t == "moof":
            if not st.init_seen:
                out.append(
                    finding(
                        "GEN-11",
                        "media segment (moof) before any initialization segment (moov)",
                        offset=box.offset,
                        box=box.path,
                    )
                )
            pending_moof = box
            if taken is not None and taken[0] is box:
                pending_plain, taken = taken, None
        prev = box
    close_moof()
    if cut is not None:
        issues = [
            i for i in issues if i.offset < cut.offset or (i.kind == "truncated" and i.path == cut.path)
        ]
    out.extend(_issue_findings(issues, ctx.ends_with_abort, size, ctx.source))
    return [_with_consequence(f) for f in out]


def _with_consequence(f: Finding) -> Finding:
    """Messages say what happens, not only what is wrong: errors end with the browser's reaction."""
    low = f.message.lower()
    if f.severity == Severity.ERROR and "fail" not in low and "reject" not in low:
        return f.replace(message=f"{f.message}: the append fails (the browser rejects the segment)")
    return f
