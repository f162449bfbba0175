"""Manifest writers: mse.json schema, DASH SegmentTimeline, HLS master + media playlists."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from msetool.fragment.manifests import (
    Presentation,
    RenditionEntry,
    SegmentEntry,
    all_manifests,
    dash_mpd,
    hls_files,
    mse_json,
)

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}


def rendition(rid: str, kind: str, codecs: tuple[str, ...], ts: int, durs: list[int], **kw: object
              ) -> RenditionEntry:
    segs, t = [], 0
    for i, d in enumerate(durs, 1):
        segs.append(SegmentEntry(f"{rid}/seg-{i:05d}.m4s", t, d, ts, 1000 * i))
        t += d
    mime = "audio/mp4" if kind == "audio" else "video/mp4"
    return RenditionEntry(rid, kind, mime, codecs, f"{rid}/init.mp4", 700, ts, tuple(segs),  # type: ignore[arg-type]
                          **kw)  # type: ignore[arg-type]


V1 = rendition("video-720p", "video", ("avc1.64001F",), 15360, [30720, 30720, 30720, 15360],
               width=1280, height=720)
V2 = rendition("video-360p", "video", ("avc1.64001E",), 15360, [30720, 30720, 30720, 15360],
               width=640, height=360)
A = rendition("audio", "audio", ("mp4a.40.2",), 48000, [96256, 96256, 96256, 47232],
              sample_rate=48000, channels=2)
P = Presentation(7.0, 2.0, (V1, V2, A))


def test_mse_json_schema() -> None:
    doc = json.loads(mse_json(P))
    assert doc["duration"] == 7.0 and doc["version"] == 1
    r = doc["renditions"][0]
    assert r["id"] == "video-720p" and r["type"] == 'video/mp4; codecs="avc1.64001F"'
    assert r["init"] == "video-720p/init.mp4"
    assert r["segments"][1] == {"file": "video-720p/seg-00002.m4s", "start": 2.0, "duration": 2.0,
                                "size": 2000, "start_ticks": 30720, "duration_ticks": 30720}
    a = doc["renditions"][2]
    assert a["type"] == 'audio/mp4; codecs="mp4a.40.2"' and a["sample_rate"] == 48000
    assert a["segments"][1]["start"] == round(96256 / 48000, 6)
    # bandwidth is measured from the segments: the peak bits/s of any segment
    assert r["bandwidth"] == max(s["size"] * 8 / s["duration"] for s in r["segments"])


def test_dash_timeline_compresses_equal_runs_and_restates_t_after_a_change() -> None:
    root = ET.fromstring(dash_mpd(P))
    assert root.get("type") == "static" and root.get("mediaPresentationDuration") == "PT7.000S"
    sets = root.findall("d:Period/d:AdaptationSet", NS)
    assert [s.get("contentType") for s in sets] == ["video", "audio"]
    reps = sets[0].findall("d:Representation", NS)
    assert [r.get("id") for r in reps] == ["video-720p", "video-360p"]
    assert reps[0].get("codecs") == "avc1.64001F" and reps[0].get("width") == "1280"
    tmpl = reps[0].find("d:SegmentTemplate", NS)
    assert tmpl is not None
    assert tmpl.get("media") == "video-720p/seg-$Number%05d$.m4s" and tmpl.get("startNumber") == "1"
    s = [(x.get("t"), x.get("d"), x.get("r")) for x in tmpl.findall("d:SegmentTimeline/d:S", NS)]
    assert s == [("0", "30720", "2"), ("92160", "15360", None)]


def test_hls_master_groups_audio_and_lists_both_codecs() -> None:
    files = hls_files(P)
    master = files["master.m3u8"].splitlines()
    assert master[0] == "#EXTM3U"
    media = [ln for ln in master if ln.startswith("#EXT-X-MEDIA:")]
    assert len(media) == 1 and 'URI="audio/playlist.m3u8"' in media[0] and 'GROUP-ID="audio"' in media[0]
    inf = [ln for ln in master if ln.startswith("#EXT-X-STREAM-INF:")]
    assert len(inf) == 2
    assert 'CODECS="avc1.64001F,mp4a.40.2"' in inf[0] and "RESOLUTION=1280x720" in inf[0]
    assert master[master.index(inf[1]) + 1] == "video-360p/playlist.m3u8"
    pl = files["video-720p/playlist.m3u8"].splitlines()
    assert '#EXT-X-MAP:URI="init.mp4"' in pl and pl[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-TARGETDURATION:2" in pl
    extinf = [float(ln[8:-1]) for ln in pl if ln.startswith("#EXTINF:")]
    assert sum(extinf) == 7.0 and "seg-00004.m4s" in pl


def test_audio_only_master_points_at_the_audio_playlist() -> None:
    master = hls_files(Presentation(4.0, 2.0, (A,)))["master.m3u8"]
    assert "#EXT-X-MEDIA" not in master
    assert 'CODECS="mp4a.40.2"' in master and "audio/playlist.m3u8" in master


def test_all_manifests_names() -> None:
    assert set(all_manifests(P)) == {"mse.json", "manifest.mpd", "master.m3u8", "video-720p/playlist.m3u8",
                                     "video-360p/playlist.m3u8", "audio/playlist.m3u8"}


def test_mpd_duration_never_ends_before_the_media() -> None:
    """mediaPresentationDuration is rounded up to the millisecond; an exact one is kept."""
    def mpd_duration(seconds: float) -> str | None:
        return ET.fromstring(dash_mpd(Presentation(seconds, 2.0, (V1,)))).get("mediaPresentationDuration")

    assert mpd_duration(6.021333) == "PT6.022S"
    assert mpd_duration(7.0) == "PT7.000S" and mpd_duration(6.001) == "PT6.001S"
    assert mpd_duration(0.1 + 0.2) == "PT0.300S"  # 0.30000000000000004: float noise is not a millisecond
    # mse.json keeps the exact end
    assert json.loads(mse_json(Presentation(6.021333, 2.0, (V1,))))["duration"] == 6.021333
