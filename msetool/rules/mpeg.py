"""MPEG audio byte stream format rules (w3c/mse-byte-stream-format-mpeg-audio) and Chromium's behaviour.

The segment parser (:mod:`msetool.mpeg.stream`) emits ParseFailed with an MPA-* id where Chromium's append
fails (a frame header whose sync bits match but whose fields are invalid, a malformed ID3v2 size, an
oversized Icecast header). :func:`check_stream` walks every frame of the run (constant memory) for what
the parser does not stop at: tags and junk that are skipped, Xing/Info/VBRI frames, configuration changes,
a truncated last frame, and the MIME type's codecs parameter.

Rule ids follow design/mse-rules.md §A.4.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from msetool.mime import MimeType
from msetool.mpeg.headers import (
    LAYER_NAMES,
    VERSION_NAMES,
    FrameHeader,
    explain_adts,
    explain_mp3,
    icecast_end,
    id3v1_size,
    id3v2_size,
)
from msetool.rules.catalog import APPEND_FAILS, ensure_rule, finding
from msetool.rules.findings import Finding
from msetool.source import ByteSource

SPEC = "mse-byte-stream-format-mpeg-audio"
CHR = "chromium media/formats/mpeg/mpeg_audio_stream_parser_base.cc"
_FAILS = APPEND_FAILS


_r = ensure_rule


_r("MPA-MIME-01", "error", "codecs parameter on audio/mpeg or audio/aac",
   "The byte stream format forbids a codecs parameter for these types; Chromium's addSourceBuffer() and "
   "isTypeSupported() reject the type.", f"{SPEC} §mime-types")
_r("MPA-FRAME-02", "error", "Invalid ADTS header",
   "A header starting with the 12-bit syncword but with layer != 0, a reserved sampling_frequency_index "
   "or a frame_length shorter than the header. " + _FAILS,
   "ISO/IEC 14496-3 §1.A.2.2; chromium media/formats/mpeg/adts_stream_parser.cc")
_r("MPA-FRAME-03", "error", "Invalid MPEG audio frame header",
   "A header starting with the 11-bit frame sync but with a reserved version or layer, a free-format or bad "
   "bitrate index or a reserved sampling frequency. " + _FAILS,
   "ISO/IEC 11172-3 §2.4.2.3; chromium media/formats/mpeg/mpeg1_audio_stream_parser.cc")
_r("MPA-META-01", "warning", "Bytes that are neither frames nor tags",
   "The byte stream format lets a UA skip ID3 and Icecast data only; Chromium skips other junk by searching "
   "for three consecutive valid frame headers and waits for more data until it finds them.",
   f"{SPEC} §mpeg-metadata; {CHR}")
_r("MPA-META-02", "error", "Malformed ID3v2 tag or Icecast header",
   "An ID3v2 size byte with its most significant bit set, or an Icecast header longer than 4096 bytes. "
   + _FAILS, f"{SPEC} §mpeg-metadata; {CHR}")
_r("MPA-META-03", "info", "ID3 tag or Icecast header skipped",
   "Accepted and ignored, as the byte stream format requires.", f"{SPEC} §mpeg-metadata, §icecast")
_r("MPA-XING-01", "info", "Xing/Info metadata frame",
   "A Layer III frame carrying a Xing or Info tag: Chromium reads its configuration but does not buffer it "
   "as audio.", CHR)
_r("MPA-VBRI-01", "warning", "VBRI metadata frame played as audio",
   "Chromium does not recognise the Fraunhofer VBRI tag: the frame is buffered and decoded as audio (a "
   "frame of silence or noise at the start, and one frame more in buffered).",
   "chromium media/formats/mpeg/mpeg1_audio_stream_parser.cc")
_r("MPA-SEG-03", "info", "Audio configuration changes",
   "A change of sampling rate or channel layout is a new initialization segment: Chromium reconfigures the "
   "decoder (changeType() is not needed, the codec stays the same).", f"{SPEC} §mpeg-segments; {CHR}")
_r("MPA-TRUNC-01", "warning", "Last frame is incomplete",
   "The stream ends inside a frame: the browser keeps the partial frame waiting and never buffers it.",
   f"{SPEC} §mpeg-segments")
_r("MPA-FRAME-05", "warning", "No audio frame found",
   "Nothing in the stream is a frame of the declared type: nothing is buffered.", f"{SPEC} §mime-types")


def check_stream(ctx: Any) -> Iterable[Finding]:
    """The engine's checker contract (msetool.rules.engine.CheckContext): findings, run-relative offsets."""
    source: ByteSource = ctx.source
    mime: MimeType | None = getattr(ctx, "mime", None)
    state: dict[str, Any] = getattr(ctx, "state", {})
    out: list[Finding] = []
    if mime is not None and mime.codecs and not state.get("mpa_mime_checked"):
        state["mpa_mime_checked"] = True
        out.append(finding("MPA-MIME-01", f"'{mime.raw or mime}' has a codecs parameter; use plain "
                           f"'{mime.essence}'", offset=None))
    aac = mime.essence == "audio/aac" if mime is not None else _looks_adts(source)
    out.extend(_walk(source, aac, state))
    return out


def _looks_adts(source: ByteSource) -> bool:
    head = source.read_at(0, 2)
    return len(head) == 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


def _header(data: bytes, pos: int, aac: bool) -> FrameHeader | str:
    return explain_adts(data, pos) if aac else explain_mp3(data, pos)


def _sync(data: bytes, pos: int, aac: bool) -> bool:
    if pos + 1 >= len(data) or data[pos] != 0xFF:
        return False
    return (data[pos + 1] & 0xF0) == 0xF0 if aac else (data[pos + 1] & 0xE0) == 0xE0


def _resync(data: bytes, pos: int, aac: bool) -> int:
    """Next offset with three consecutive valid headers (or the last valid one near the end), else -1."""
    start = pos
    while True:
        cand = data.find(b"\xff", start)
        if cand < 0:
            return -1
        p = cand
        ok = 0
        for _ in range(3):
            h = _header(data, p, aac)
            if isinstance(h, str):
                break
            ok += 1
            p += h.frame_size
            if p >= len(data):
                ok = 3
                break
        if ok == 3:
            return cand
        start = cand + 1


def _walk(source: ByteSource, aac: bool, state: dict[str, Any]) -> Iterator[Finding]:
    size = source.size
    chunk = 1 << 20
    buf = b""
    base = 0
    pos = 0
    frames = 0
    config: tuple[int, int] | None = state.get("mpa_config")
    name = "ADTS" if aac else "MPEG audio"
    junk_reported = 0
    while True:
        if pos - base + 16384 > len(buf) and base + len(buf) < size:
            keep = buf[pos - base :]
            buf = keep + source.read_at(pos + len(keep), chunk)
            base = pos
        i = pos - base
        if len(buf) - i < 4:
            break
        lead = buf[i : i + 4]
        if _sync(buf, i, aac):
            h = _header(buf, i, aac)
            if isinstance(h, str):
                if h.startswith("truncated"):
                    yield finding("MPA-TRUNC-01", f"the stream ends inside a {name} header", offset=pos)
                    break
                yield finding("MPA-FRAME-02" if aac else "MPA-FRAME-03", f"invalid {name} header: {h}",
                              offset=pos)
                nxt = _resync(buf, i + 1, aac)
                if nxt < 0:
                    break
                pos = base + nxt
                continue
            if len(buf) - i < h.frame_size and base + len(buf) >= size:
                yield finding("MPA-TRUNC-01", f"the last frame needs {h.frame_size} bytes but only "
                              f"{len(buf) - i} remain", offset=pos)
                break
            cfg = (h.sample_rate, h.channels)
            if config is not None and cfg != config:
                yield finding("MPA-SEG-03", "sampling rate/channels change from "
                              f"{config[0]} Hz/{config[1]} ch to {cfg[0]} Hz/{cfg[1]} ch", offset=pos)
            config = cfg
            if h.metadata_frame:
                yield finding("MPA-XING-01", f"{VERSION_NAMES.get(h.version, '')} "
                              f"{LAYER_NAMES.get(h.layer, '')} Xing/Info frame", offset=pos)
            elif h.vbri_frame:
                yield finding("MPA-VBRI-01", "VBRI frame: Chromium buffers it as an audio frame", offset=pos)
            frames += 1
            pos += h.frame_size
            continue
        if lead == b"ICY ":
            end = icecast_end(buf, i)
            if isinstance(end, str):
                yield finding("MPA-META-02", end, offset=pos)
                break
            if end is None:
                yield finding("MPA-TRUNC-01", "the stream ends inside an Icecast header", offset=pos)
                break
            yield finding("MPA-META-03", f"Icecast header ({end - i} bytes)", offset=pos)
            pos += end - i
            continue
        if lead[:3] == b"TAG":
            n = id3v1_size(buf, i)
            yield finding("MPA-META-03", f"ID3v1 tag ({n} bytes)", offset=pos)
            pos += n
            continue
        if lead[:3] == b"ID3":
            n2 = id3v2_size(buf, i)
            if isinstance(n2, str):
                yield finding("MPA-META-02", n2, offset=pos)
                break
            if n2 is None:
                break
            yield finding("MPA-META-03", f"ID3v2 tag ({n2} bytes)", offset=pos)
            pos += n2
            continue
        nxt = _resync(buf, i + 1, aac)
        skipped = (len(buf) - i) if nxt < 0 else nxt - i
        if junk_reported < 5:
            junk_reported += 1
            yield finding("MPA-META-01", f"{skipped} bytes that are not a {name} frame, ID3 tag or Icecast "
                          "header are skipped", offset=pos)
        if nxt < 0:
            break
        pos = base + nxt
    state["mpa_config"] = config
    if frames == 0 and size > 0:
        yield finding("MPA-FRAME-05", f"no {name} frame in the stream", offset=0)
