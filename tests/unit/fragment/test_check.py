"""The self-check catches the Chromium traps when handed output that has them (the committed broken sets
stand in for an ffmpeg that writes them), and stays quiet on the clean sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msetool.fragment import layout
from msetool.fragment.check import (
    CheckReport,
    RenditionCheck,
    default_validator,
    duration_findings,
    merge_ranges,
    self_check,
)
from msetool.fragment.manifests import Presentation, RenditionEntry, SegmentEntry
from msetool.fragment.package import _media_end
from msetool.rules.findings import Finding, Severity

SETS = Path(__file__).resolve().parents[3] / "samples" / "segments"


def presentation(name: str) -> Presentation:
    """A one-rendition presentation over a sample set, its id being the set's folder name."""
    d = SETS / name
    init = layout.read_init((d / "init.mp4").read_bytes())
    main = next((t for t in init if t.kind == "video"), init[0])
    kind = "muxed" if len(init) > 1 else main.kind
    segs, timings = [], []
    for f in sorted(d.glob("seg-*.m4s")):
        size, moofs = layout.moofs_in_file(f)
        timing = layout.read_segment(moofs, init, f.name, size)
        timings.append(timing)
        pts, _dts, dur = timing.tracks.get(main.track_id, (0, 0, 0))
        segs.append(SegmentEntry(f"{name}/{f.name}", pts, dur, main.timescale, size))
    mime = "audio/mp4" if kind == "audio" else "video/mp4"
    r = RenditionEntry(name, kind, mime, tuple(t.codec for t in init), f"{name}/init.mp4",  # type: ignore[arg-type]
                       0, main.timescale, tuple(segs), media_end=_media_end(init, timings))
    return Presentation(r.end, 1.0, (r,))  # the duration as packaging computes it


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


def _reparse_always(files: list[tuple[Path, str]], mime: str, parser_factory: object = None) -> list[Finding]:
    """``msetool validate``'s engine with its own parser: the replay is never taken."""
    base = default_validator()
    assert base is not None
    return base(files, mime)


def _keys(report: CheckReport) -> list[tuple[str, str, str | None, int | None, str]]:
    return sorted((f.rule, f.severity.value, f.file, f.offset, f.message) for f in report.findings)


@pytest.mark.parametrize("name", sorted(p.name for p in SETS.iterdir() if (p / "init.mp4").exists()))
def test_replayed_parser_events_validate_like_a_second_parse(name: str) -> None:
    # batch=1: several validation runs per rendition, each overlapping the previous one by a segment
    replayed = self_check(SETS, presentation(name), batch=1)
    reparsed = self_check(SETS, presentation(name), validator=_reparse_always, batch=1)
    assert _keys(replayed) == _keys(reparsed)
    assert [r.buffered for r in replayed.renditions] == [r.buffered for r in reparsed.renditions]
    assert reparsed.renditions[0].replayed == 0
    if name.startswith("clean"):
        # every file of every run came from the simulator's one parse (init once per run, overlaps twice)
        (rc,) = replayed.renditions
        assert rc.replayed >= len(presentation(name).renditions[0].segments) + 1


def test_a_failed_append_is_validated_by_a_fresh_parser() -> None:
    # base-data-offset makes Chromium's parser fail: the recorded events stop there, so validation must
    # not replay them (it restarts a parser per file and reports every segment)
    report = self_check(SETS, presentation("base-data-offset"), batch=1)
    assert report.renditions[0].replayed == 0
    assert len({f.file for f in report.findings if f.severity is Severity.ERROR}) > 1


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=5), st.data())
def test_replay_moves_each_event_like_the_general_mapping(sizes: list[int], data: st.DataObject) -> None:
    """_Replay.skip maps an event about its own file with that file's shift; every event must come out
    as _Replay._moved (bisect over every file of the run) would place it."""
    from msetool.fragment.check import _Recorded, _Replay
    from msetool.stream import MediaSegmentEnded, MediaSegmentStarted, ParseWarning

    files, start = [], data.draw(st.integers(0, 100))
    total = start + sum(sizes) + 100
    for i, size in enumerate(sizes):
        offsets = data.draw(st.lists(st.integers(0, total), max_size=4))
        events: list[Any] = [
            data.draw(st.sampled_from([MediaSegmentStarted(o, "moof"), MediaSegmentEnded(o),
                                       ParseWarning("w", o, "moof", None)]))
            for o in offsets
        ]
        files.append(_Recorded(f"f{i}", start, size, events, False))
        start += size + data.draw(st.integers(0, 30))  # files of one run need not be adjacent in the parser
    got, want = _Replay(files), _Replay(files)
    out = got.skip(sum(sizes))
    expected = []
    for f in files:  # the general mapping, file by file as skip() hands them out
        expected += [want._moved(e) for e in f.events]
        want.i += 1
    assert out == expected


@pytest.mark.parametrize("size", [0, 1, 131_071, 131_073, 400_000, 3_000_001])
def test_read_whole_returns_the_file(tmp_path: Path, size: int) -> None:
    """The check's reader (one read of the file's size, heap reuse primed) returns exactly the file's
    bytes, at sizes around glibc's default 128 KiB mmap threshold and over a few MB."""
    from msetool.fragment.check import read_whole

    data = bytes((i * 7 + 3) % 251 for i in range(size))
    f = tmp_path / "seg.m4s"
    f.write_bytes(data)
    assert read_whole(f) == data
    assert read_whole(f) == f.read_bytes()  # again, after the threshold is raised


def test_read_whole_names_a_missing_file(tmp_path: Path) -> None:
    from msetool.fragment.check import read_whole

    with pytest.raises(FileNotFoundError):
        read_whole(tmp_path / "gone.m4s")


def test_a_duration_short_of_the_simulated_media_is_an_error() -> None:
    """The presentation's duration (read-back timing) against the simulator's buffered ends: a muxed set
    whose audio outlasts its video, given the video's end as the duration, is reported for the audio."""
    p = presentation("clean-muxed")
    (r,) = p.renditions
    short = Presentation(r.segments[-1].start + r.segments[-1].duration, 1.0, (r,))
    found = [f for f in self_check(SETS, short).findings if f.rule == "fragment-duration"]
    assert found and all(f.severity is Severity.ERROR and "clean-muxed" in f.message for f in found)
    assert not [f for f in self_check(SETS, p).findings if f.rule == "fragment-duration"]


def test_duration_findings_compare_only_simulated_ranges_with_a_millisecond_of_slack() -> None:
    rc = RenditionCheck("m", "video/mp4", buffered={"video": [(0.0, 4.0)], "audio": [(0.0, 4.0213)]},
                        buffered_source="simulator")
    assert [f.message.split(" is ")[0] for f in duration_findings(4.0, rc)] == ["m audio"]
    assert duration_findings(4.021, rc) == [] and duration_findings(4.0213, rc) == []
    rc.buffered_source = "segment timing"  # the duration came from there: nothing independent to compare
    assert duration_findings(4.0, rc) == []


def test_every_self_check_finding_id_is_documented() -> None:
    import re

    root = Path(__file__).resolve().parents[3]
    source = (root / "msetool" / "fragment" / "check.py").read_text()
    ids = set(re.findall(r'Finding\(\s*"(fragment-[a-z-]+)"', source))
    doc = (root / "docs" / "fragment.md").read_text()
    assert ids >= {"fragment-trap", "fragment-simulate", "fragment-duration", "fragment-quota"}
    assert [i for i in sorted(ids) if f"`{i}`" not in doc] == []
