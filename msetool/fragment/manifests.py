"""The presentation model of a packaged output and its three manifests: ``mse.json``, DASH, HLS.

Pure functions from :class:`Presentation` to text, so every writer is unit-tested without ffmpeg. Every
number comes from reading the segments back (see :mod:`msetool.fragment.layout`), so a manifest cannot
claim a duration, boundary or codec that the bytes do not have.
"""

from __future__ import annotations

import functools
import json
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii as _js
from typing import Any, Literal

SCHEMA_VERSION = 1


def quoteattr(value: str) -> str:
    """An XML attribute value in double quotes (xml.sax.saxutils would pull in urllib at import time)."""
    esc = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return f'"{esc}"'


@dataclass(frozen=True, slots=True)
class SegmentEntry:
    #: Path relative to the manifest.
    file: str
    #: Earliest presentation time in ``timescale`` ticks, and the segment's duration in ticks.
    start_ticks: int
    duration_ticks: int
    timescale: int
    size: int

    @property
    def start(self) -> float:
        return self.start_ticks / self.timescale

    @property
    def duration(self) -> float:
        return self.duration_ticks / self.timescale


@dataclass(frozen=True, slots=True)
class RenditionEntry:
    id: str
    kind: Literal["video", "audio", "muxed"]
    #: ``video/mp4`` or ``audio/mp4``.
    mime: str
    #: One codec string per track in the init segment, as msetool derived it from the init segment.
    codecs: tuple[str, ...]
    init: str
    init_size: int
    timescale: int
    segments: tuple[SegmentEntry, ...]
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    #: Target bitrate asked for (bits/s), if any; the measured one is :attr:`bandwidth`.
    target_bitrate: int | None = None
    audio_codecs: tuple[str, ...] = field(default_factory=tuple)
    #: Where the last of its tracks ends (s), when that is known. The segment timeline follows one track
    #: (a muxed rendition's video), and another can outlast it: ffmpeg's AAC ends on a whole frame, up to
    #: ~21 ms after the video. A presentation duration short of that end makes dash.js end playback
    #: itself, pausing short of the end, while Chromium still plays the audio (tests/integration).
    media_end: float | None = None

    @property
    def type(self) -> str:
        """The exact string for ``MediaSource.addSourceBuffer()``."""
        return f'{self.mime}; codecs="{",".join(self.codecs)}"'

    @property
    def duration(self) -> float:
        if not self.segments:
            return 0.0
        last = self.segments[-1]
        end = last.start_ticks + last.duration_ticks
        return max(0.0, (end - self.segments[0].start_ticks) / self.timescale)

    @property
    def end(self) -> float:
        """Where its media ends (s): its last track's end, else its timeline's."""
        if not self.segments:
            return self.media_end or 0.0
        last = self.segments[-1]
        return max(last.start + last.duration, self.media_end or 0.0)

    #: (bandwidth, average_bandwidth), computed on first use: the manifests ask for them ~7 times per
    #: rendition after ffmpeg has exited, each a pass over every segment (~1 ms of 1,200 segments in all)
    _rates: tuple[int, int] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def bandwidth(self) -> int:
        """Peak bits per second over the segments: what DASH @bandwidth and HLS BANDWIDTH promise."""
        return (self._rates or self._measure())[0]

    @property
    def average_bandwidth(self) -> int:
        return (self._rates or self._measure())[1]

    def _measure(self) -> tuple[int, int]:
        # the largest of 0.0 and each segment's s.size * 8 / s.duration (one max over a generator)
        peak = max(0.0, max((s.size * 8 / (s.duration_ticks / s.timescale) for s in self.segments
                             if s.duration_ticks > 0), default=0.0))
        total = sum(s.size for s in self.segments)
        dur = sum(s.duration_ticks / s.timescale for s in self.segments)  # each s.duration, in order
        rates = (max(1, math.ceil(peak)), max(1, math.ceil(total * 8 / dur)) if dur > 0 else 1)
        object.__setattr__(self, "_rates", rates)  # (frozen: the cache is not part of the value)
        return rates


@dataclass(frozen=True, slots=True)
class Presentation:
    duration: float
    segment_duration: float
    renditions: tuple[RenditionEntry, ...]
    generator: str = "msetool"

    def of_kind(self, kind: str) -> list[RenditionEntry]:
        return [r for r in self.renditions if r.kind == kind]


def _r6(x: float) -> float:
    return round(x, 6)


def mse_json(p: Presentation, texts: Mapping[str, SegmentTexts] | None = None) -> str:
    """``mse.json``: everything a hand-written MSE player needs, paths relative to the file itself.
    ``texts``: rendition id -> its segments' text made beforehand (:class:`SegmentTexts`)."""
    doc: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "generator": p.generator,
        "duration": _r6(p.duration),
        "segment_duration": _r6(p.segment_duration),
        "renditions": [],
    }
    for r in p.renditions:
        entry: dict[str, Any] = {
            "id": r.id,
            "kind": r.kind,
            "type": r.type,
            "mime": r.mime,
            "codecs": list(r.codecs),
            "bandwidth": r.bandwidth,
            "average_bandwidth": r.average_bandwidth,
            "timescale": r.timescale,
            "init": r.init,
            "init_size": r.init_size,
            "duration": _r6(r.duration),
        }
        for key in ("width", "height", "sample_rate", "channels", "target_bitrate"):
            val = getattr(r, key)
            if val is not None:
                entry[key] = val
        entry["segments"] = f"\0segments {len(doc['renditions'])}\0" if r.segments else []
        doc["renditions"].append(entry)
    text = json.dumps(doc, indent=1)
    # the segment lists are most of the file: written by _segments_json, not json's indenting encoder
    for i, r in enumerate(p.renditions):
        if r.segments:
            made = texts.get(r.id) if texts else None
            if made is not None and made.made_from(r.segments):
                listed = _json_list(made.json, _SEGMENTS_DEPTH)
            else:
                listed = _segments_json(r.segments, _SEGMENTS_DEPTH)
            text = text.replace(json.dumps(f"\0segments {i}\0"), listed, 1)
    return text + "\n"


def _segments_json(segments: tuple[SegmentEntry, ...], depth: int) -> str:
    """Exactly what ``json.dumps(..., indent=1)`` writes for mse.json's list of segment objects nested
    ``depth`` levels deep. json's indenting encoder runs in Python, per value (~14 ms for 1,200 segments
    on the development machine, written after ffmpeg exits); this formats each object in one f-string."""
    return _json_list([_segment_json(s, _json_parts(depth)) for s in segments], depth)


def _json_list(items: list[str], depth: int) -> str:
    return "[\n" + ",\n".join(items) + "\n" + " " * (depth - 1) + "]"


@functools.cache
def _json_parts(depth: int) -> tuple[str, str, str, str, str, str, str]:
    """The text around a segment object's values, ``depth`` levels deep."""
    pad, inner = " " * depth, " " * (depth + 1)
    start, dur, size, ticks, dticks = (
        f',\n{inner}"{k}": ' for k in ("start", "duration", "size", "start_ticks", "duration_ticks"))
    return f'{pad}{{\n{inner}"file": ', start, dur, size, ticks, dticks, f"\n{pad}}}"


def _segment_json(s: SegmentEntry, parts: tuple[str, str, str, str, str, str, str]) -> str:
    head, start, dur, size, ticks, dticks, tail = parts
    st, dt, ts, n = s.start_ticks, s.duration_ticks, s.timescale, s.size
    if type(st) is int and type(dt) is int and type(ts) is int and type(n) is int:
        # int / int is a finite float (or raises), so _jnum(_r6(...)) is its repr; an int is its str
        return (f"{head}{_js(s.file)}{start}{round(st / ts, 6)!r}{dur}{round(dt / ts, 6)!r}"
                f"{size}{n}{ticks}{st}{dticks}{dt}{tail}")
    return (f"{head}{_js(s.file)}{start}{_jnum(_r6(s.start))}{dur}{_jnum(_r6(s.duration))}"
            f"{size}{_jnum(n)}{ticks}{_jnum(st)}{dticks}{_jnum(dt)}{tail}")


#: how deep mse.json nests each rendition's segment objects (doc > renditions > rendition > segments)
_SEGMENTS_DEPTH = 4


def _extinf(s: SegmentEntry, base: str) -> str:
    """A segment's two lines in an HLS media playlist, its URI relative to the playlist's folder ``base``."""
    cut = len(base)
    return (f"#EXTINF:{s.duration_ticks / s.timescale:.6f},\n"
            f"{s.file[cut:] if cut and s.file.startswith(base) else s.file}")


class SegmentTexts:
    """What mse.json and a rendition's HLS media playlist say about each of its segments, made one segment
    at a time.

    Why: packaging finalizes each segment's entry while ffmpeg is still writing the next ones (see
    :mod:`msetool.fragment.package`), and formatting 1,200 segments' text after ffmpeg had exited was ~5
    ms of the user's wait. A writer takes these lines only for the very entries they were made from
    (compared by identity, see :meth:`made_from`), so stale or partial text cannot reach a manifest.
    """

    __slots__ = ("entries", "hls", "hls_base", "json")

    def __init__(self, hls_base: str) -> None:
        self.entries: list[SegmentEntry] = []
        #: each entry's object in mse.json and its lines in the playlist in ``hls_base``
        self.json: list[str] = []
        self.hls: list[str] = []
        self.hls_base = hls_base

    def add(self, s: SegmentEntry) -> None:
        self.entries.append(s)
        self.json.append(_segment_json(s, _json_parts(_SEGMENTS_DEPTH)))
        self.hls.append(_extinf(s, self.hls_base))

    def made_from(self, segments: tuple[SegmentEntry, ...]) -> bool:
        return len(segments) == len(self.entries) and all(map(operator.is_, segments, self.entries))


def _jnum(v: float) -> str:
    """A number as json writes it (float repr, int repr; NaN/Infinity spelt as json.dumps spells them)."""
    if type(v) is float and math.isfinite(v):
        return float.__repr__(v)
    if type(v) is int:
        return int.__repr__(v)
    return json.dumps(v)


def _iso_duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def _iso_duration_up(seconds: float) -> str:
    """A duration at millisecond precision that does not end before ``seconds`` does: a player takes
    mediaPresentationDuration as where the media ends (see :attr:`RenditionEntry.media_end`)."""
    return f"PT{math.ceil(round(seconds * 1000, 6)) / 1000:.3f}S"


def _timeline(r: RenditionEntry) -> list[str]:
    """SegmentTimeline <S> runs; ``t`` restated after any discontinuity so players never drift."""
    out: list[str] = []
    expect: int | None = None
    run: list[int] = []  # [t, d, r]
    for s in r.segments:
        if run and s.duration_ticks == run[1] and s.start_ticks == expect:
            run[2] += 1
        else:
            if run:
                out.append(_s(run, first=not out))
            run = [s.start_ticks, s.duration_ticks, 0]
        expect = s.start_ticks + s.duration_ticks
    if run:
        out.append(_s(run, first=not out))
    return out


def _s(run: list[int], first: bool) -> str:
    t, d, r = run
    rep = f' r="{r}"' if r else ""
    return f'<S t="{t}" d="{d}"{rep}/>'


def _template(r: RenditionEntry) -> str:
    """SegmentTemplate: file names are ``<dir>/seg-NNNNN.m4s`` numbered from 1."""
    first = r.segments[0].file if r.segments else f"{r.id}/seg-00001.m4s"
    directory = first.rsplit("/", 1)[0] + "/" if "/" in first else ""
    media = f"{directory}seg-$Number%05d$.m4s"
    lines = [
        f'        <SegmentTemplate timescale="{r.timescale}" initialization={quoteattr(r.init)} '
        f'media={quoteattr(media)} startNumber="1">',
        "          <SegmentTimeline>",
        *[f"            {s}" for s in _timeline(r)],
        "          </SegmentTimeline>",
        "        </SegmentTemplate>",
    ]
    return "\n".join(lines)


def dash_mpd(p: Presentation) -> str:
    """A static DASH MPD (isoff-live profile, SegmentTemplate + SegmentTimeline), one AdaptationSet per
    kind. Codecs strings are the derived ones, so a DASH player feeds MSE exactly what mse.json says."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-live:2011" '
        f'type="static" mediaPresentationDuration="{_iso_duration_up(p.duration)}" '
        f'minBufferTime="{_iso_duration(max(2.0, p.segment_duration * 2))}">',
        f"  <!-- generated by {p.generator} -->",
        '  <Period id="0" start="PT0S">',
    ]
    for n, kind in enumerate(("video", "muxed", "audio")):
        reps = p.of_kind(kind)
        if not reps:
            continue
        ctype = "audio" if kind == "audio" else "video"
        mime = reps[0].mime
        out.append(
            f'    <AdaptationSet id="{n}" contentType="{ctype}" mimeType="{mime}" segmentAlignment="true" '
            'startWithSAP="1">'
        )
        for r in reps:
            attrs = [f"id={quoteattr(r.id)}", f'codecs="{",".join(r.codecs)}"', f'bandwidth="{r.bandwidth}"']
            if r.width and r.height:
                attrs += [f'width="{r.width}"', f'height="{r.height}"']
            if r.sample_rate:
                attrs.append(f'audioSamplingRate="{r.sample_rate}"')
            out.append(f"      <Representation {' '.join(attrs)}>")
            if r.channels and kind == "audio":
                out.append(
                    '        <AudioChannelConfiguration '
                    'schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" '
                    f'value="{r.channels}"/>'
                )
            out.append(_template(r))
            out.append("      </Representation>")
        out.append("    </AdaptationSet>")
    out += ["  </Period>", "</MPD>", ""]
    return "\n".join(out)


def hls_media_playlist(r: RenditionEntry, base: str = "", texts: SegmentTexts | None = None) -> str:
    """An fMP4 media playlist; URIs relative to the playlist, which sits in the rendition's folder
    ``base``. ``texts``: the segments' lines made beforehand (:class:`SegmentTexts`)."""

    def rel(path: str) -> str:
        return path[len(base):] if base and path.startswith(base) else path

    target = max((s.duration for s in r.segments), default=0.0)
    out = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{max(1, round(target))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{rel(r.init)}"',
    ]
    # per segment its EXTINF line and rel(s.file), as one item of the lines joined below
    if texts is not None and texts.hls_base == base and texts.made_from(r.segments):
        out += texts.hls
    else:
        out += [_extinf(s, base) for s in r.segments]
    out += ["#EXT-X-ENDLIST", ""]
    return "\n".join(out)


def playlist_path(r: RenditionEntry) -> str:
    directory = r.init.rsplit("/", 1)[0] + "/" if "/" in r.init else ""
    return f"{directory}playlist.m3u8"


def hls_master(p: Presentation) -> str:
    """The multivariant playlist: video (or muxed) variants, audio as an EXT-X-MEDIA rendition group."""
    audio = p.of_kind("audio")
    variants = p.of_kind("video") + p.of_kind("muxed")
    out = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if variants and audio:
        for i, a in enumerate(audio):
            default = "YES" if i == 0 else "NO"
            out.append(
                f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="{a.id}",DEFAULT={default},'
                f'AUTOSELECT=YES,CHANNELS="{a.channels or 2}",URI="{playlist_path(a)}"'
            )
    if not variants:
        variants = audio
        audio = []
    best_audio = max(audio, key=lambda a: a.bandwidth) if audio else None
    for v in variants:
        codecs = list(v.codecs)
        bw, avg = v.bandwidth, v.average_bandwidth
        if best_audio is not None:
            codecs += list(best_audio.codecs)
            bw += best_audio.bandwidth
            avg += best_audio.average_bandwidth
        attrs = [f"BANDWIDTH={bw}", f"AVERAGE-BANDWIDTH={avg}", f'CODECS="{",".join(codecs)}"']
        if v.width and v.height:
            attrs.append(f"RESOLUTION={v.width}x{v.height}")
        if best_audio is not None:
            attrs.append('AUDIO="audio"')
        out.append("#EXT-X-STREAM-INF:" + ",".join(attrs))
        out.append(playlist_path(v))
    out.append("")
    return "\n".join(out)


def hls_files(p: Presentation, texts: Mapping[str, SegmentTexts] | None = None) -> dict[str, str]:
    """Relative path -> text for the master playlist and every media playlist."""
    files = {"master.m3u8": hls_master(p)}
    for r in p.renditions:
        path = playlist_path(r)
        files[path] = hls_media_playlist(r, playlist_base(r), texts.get(r.id) if texts else None)
    return files


def playlist_base(r: RenditionEntry) -> str:
    """The folder of :func:`playlist_path`, with its slash (what the playlist's URIs are relative to)."""
    path = playlist_path(r)
    return path.rsplit("/", 1)[0] + "/" if "/" in path else ""


def all_manifests(p: Presentation, texts: Mapping[str, SegmentTexts] | None = None) -> dict[str, str]:
    """Every manifest of ``p``; ``texts`` as :func:`mse_json` takes it."""
    return {"mse.json": mse_json(p, texts), "manifest.mpd": dash_mpd(p), **hls_files(p, texts)}
