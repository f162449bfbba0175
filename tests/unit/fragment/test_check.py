"""The self-check catches the Chromium traps when handed output that has them (the committed broken sets
stand in for an ffmpeg that writes them), and stays quiet on the clean sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from msetool.fragment import layout
from msetool.fragment.check import merge_ranges, self_check
from msetool.fragment.manifests import Presentation, RenditionEntry, SegmentEntry
from msetool.rules.findings import Severity

SETS = Path(__file__).resolve().parents[3] / "samples" / "segments"


def presentation(name: str) -> Presentation:
    """A one-rendition presentation over a sample set, its id being the set's folder name."""
    d = SETS / name
    init = layout.read_init((d / "init.mp4").read_bytes())
    main = next((t for t in init if t.kind == "video"), init[0])
    kind = "muxed" if len(init) > 1 else main.kind
    segs = []
    for f in sorted(d.glob("seg-*.m4s")):
        size, moofs = layout.moofs_in_file(f)
        pts, _dts, dur = layout.read_segment(moofs, init, f.name, size).tracks.get(main.track_id, (0, 0, 0))
        segs.append(SegmentEntry(f"{name}/{f.name}", pts, dur, main.timescale, size))
    mime = "audio/mp4" if kind == "audio" else "video/mp4"
    r = RenditionEntry(name, kind, mime, tuple(t.codec for t in init), f"{name}/init.mp4",  # type: ignore[arg-type]
                       0, main.timescale, tuple(segs))
    return Presentation(4.0, 1.0, (r,))


def errors(name: str) -> list[str]:
    report = self_check(SETS, presentation(name))
    return [f"{f.rule}: {f.message}" for f in report.findings if f.severity is Severity.ERROR]


@pytest.mark.parametrize("name", ["clean", "clean-audio", "clean-muxed"])
def test_clean_sets_pass_and_buffer_everything(name: str) -> None:
    report = self_check(SETS, presentation(name))
    assert [f for f in report.findings if f.severity is Severity.ERROR] == []
    (rc,) = report.renditions
    assert rc.buffered_source == "simulator"
    for ranges in rc.buffered.values():
        assert len(ranges) == 1 and ranges[0][0] == pytest.approx(0, abs=0.05)
        assert ranges[0][1] == pytest.approx(4.0, abs=0.1)


@pytest.mark.parametrize(("name", "needle"), [
    ("base-data-offset", "base-data-offset"),
    ("aac-missing-asc", "AudioSpecificConfig"),
    ("missing-tfdt", "tfdt"),
])
def test_traps_are_errors(name: str, needle: str) -> None:
    found = errors(name)
    assert any(needle in f for f in found), found


def test_two_track_fragment_without_base_flag_is_caught() -> None:
    report = self_check(SETS, presentation("muxed-no-base-flag"))
    assert any("default-base-is-moof" in f.message for f in report.findings if f.severity is Severity.ERROR)


def test_gap_splits_the_buffered_range() -> None:
    (rc,) = self_check(SETS, presentation("gap")).renditions
    (ranges,) = rc.buffered.values()
    assert len(ranges) == 2 and ranges[1][0] - ranges[0][1] == pytest.approx(0.5, abs=0.05)


def test_merge_ranges_bridges_small_gaps_only() -> None:
    assert merge_ranges([(2.0, 3.0), (0.0, 1.0), (1.05, 2.0)], 0.1) == [(0.0, 3.0)]
    assert merge_ranges([(0.0, 1.0), (1.5, 2.0)], 0.1) == [(0.0, 1.0), (1.5, 2.0)]
