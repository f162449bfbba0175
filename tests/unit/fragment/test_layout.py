"""layout.py reads fragment's output back; the committed sample sets (samples/segments) exercise the traps."""

from __future__ import annotations

from pathlib import Path

import pytest

from msetool.fragment import layout

SETS = Path(__file__).resolve().parents[3] / "samples" / "segments"


def read_set(name: str) -> tuple[list[layout.TrackLayout], list[layout.SegmentTiming]]:
    d = SETS / name
    init = layout.read_init((d / "init.mp4").read_bytes(), "init.mp4")
    out = []
    for f in sorted(d.glob("seg-*.m4s")):
        size, moofs = layout.moofs_in_file(f)
        out.append(layout.read_segment(moofs, init, f.name, size))
    return init, out


def test_clean_set_is_contiguous_and_trap_free() -> None:
    init, segs = read_set("clean")
    (t,) = init
    assert t.kind == "video" and t.codec.startswith("avc1.4D") and t.width == 320 and not t.missing_asc
    starts = [s.tracks[t.track_id][0] for s in segs]
    durs = [s.tracks[t.track_id][2] for s in segs]
    assert starts[0] == 0 and all(starts[i] + durs[i] == starts[i + 1] for i in range(len(segs) - 1))
    assert sum(durs) == 4 * t.timescale
    assert all(not s.traps and s.keyframe_start for s in segs)


def test_gap_shows_in_timing() -> None:
    init, segs = read_set("gap")
    tid, ts = init[0].track_id, init[0].timescale
    end2 = segs[1].tracks[tid][0] + segs[1].tracks[tid][2]
    assert segs[2].tracks[tid][0] - end2 == ts // 2


def test_base_data_offset_is_a_trap() -> None:
    _, segs = read_set("base-data-offset")
    assert all(any("base-data-offset" in t for t in s.traps) for s in segs)


def test_two_tracks_without_default_base_is_moof_is_a_trap() -> None:
    init, segs = read_set("muxed-no-base-flag")
    assert {t.kind for t in init} == {"video", "audio"}
    assert any("default-base-is-moof" in t for t in segs[0].traps)
    _, clean = read_set("clean-muxed")
    assert not any(s.traps for s in clean)


def test_missing_tfdt_is_reported() -> None:
    _, segs = read_set("missing-tfdt")
    assert any("without tfdt" in t for t in segs[1].traps)


def test_aac_without_audio_specific_config_is_flagged() -> None:
    (bad,) = read_set("aac-missing-asc")[0]
    (good,) = read_set("clean-audio")[0]
    assert bad.missing_asc and not good.missing_asc
    assert good.codec == "mp4a.40.2" and good.sample_rate == 48000


def test_split_fragmented_groups_fragments_into_target_durations() -> None:
    d = SETS / "clean"
    data = (d / "init.mp4").read_bytes() + b"".join(f.read_bytes() for f in sorted(d.glob("seg-*.m4s")))
    (t,) = layout.read_init(data)
    init, segments = layout.split_fragmented(data, 2 * t.timescale, t.timescale, t.track_id)
    assert init == (d / "init.mp4").read_bytes()
    assert len(segments) == 2  # four 1 s fragments -> two 2 s segments
    assert b"".join(segments) == data[len(init):]


def test_truncated_box_is_a_parse_error() -> None:
    data = (SETS / "clean" / "init.mp4").read_bytes()
    with pytest.raises(Exception, match="runs past"):
        layout.read_init(data[:-10])
