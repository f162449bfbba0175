"""`msetool validate` / `msetool codecs` end to end on ffmpeg-made media: exit codes and output formats."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from msetool.cli.main import cli


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def seg_dir(tmp_path_factory: pytest.TempPathFactory, avc_segments: tuple[Path, list[Path]]) -> Path:
    return avc_segments[0].parent


def errors(doc: dict) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [
        (Path(f["path"]).name, x["rule"])
        for f in doc["files"]
        for x in f["findings"]
        if x["severity"] == "error"
    ]


def test_clean_ffmpeg_folder_is_clean(seg_dir: Path) -> None:
    code, out, _ = run("validate", "--format", "json", str(seg_dir))
    doc = json.loads(out)
    assert code == 0, out
    assert errors(doc) == []
    names = [Path(f["path"]).name for f in doc["files"]]
    assert names[0] == "init.mp4" and names[1:] == sorted(names[1:], key=lambda n: int(re.sub(r"\D", "", n)))
    assert doc["summary"]["errors"] == 0 and doc["exit_code"] == 0


def test_codecs_then_validate_with_that_type(avc_aac_fmp4: Path) -> None:
    code, out, _ = run("codecs", str(avc_aac_fmp4))
    assert code == 0
    typ = out.strip()
    assert re.fullmatch(r'video/mp4; codecs="avc1\.[0-9A-F]{6},mp4a\.40\.2"', typ), typ
    code, out, _ = run("validate", "--type", typ, "--format", "json", str(avc_aac_fmp4))
    assert code == 0 and errors(json.loads(out)) == []
    code, out, _ = run("codecs", "--format", "json", str(avc_aac_fmp4))
    tracks = json.loads(out)["files"][0]["tracks"]
    assert {t["kind"] for t in tracks} == {"video", "audio"}


def test_declared_codec_family_mismatch_fails(avc_aac_fmp4: Path) -> None:
    code, out, _ = run(
        "validate",
        "--type",
        'video/mp4; codecs="vp09.00.10.08,mp4a.40.2"',
        "--format",
        "json",
        str(avc_aac_fmp4),
    )
    assert code == 1
    assert ("avc-aac" in out) and any(r == "BMFF-INIT-16" for _, r in errors(json.loads(out)))


def test_broken_set_in_every_format(tmp_path: Path, avc_segments: tuple[Path, list[Path]]) -> None:
    init, segs = avc_segments
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(200, 256)) * 4)
    files = [str(init), str(segs[0]), str(garbage), str(segs[1])]
    code, out, _ = run("validate", "--format", "json", *files)
    assert code == 1
    doc = json.loads(out)
    assert ("garbage.bin", "BMFF-BOX-01") in errors(doc)
    hit = next(x for f in doc["files"] for x in f["findings"] if x["rule"] == "BMFF-BOX-01")
    assert hit["offset"] == 0  # relative to garbage.bin, not to the stream
    code, out, _ = run("validate", "--format", "junit", *files)
    assert code == 1
    cases = ET.fromstring(out).findall(".//testcase")
    assert len(cases) == 4 and cases[2].find("failure") is not None and cases[0].find("failure") is None
    code, out, _ = run("validate", "--format", "github", *files)
    assert code == 1
    assert re.search(r"^::error file=.*garbage\.bin,title=BMFF-BOX-01::", out, re.M)
    code, out, _ = run("validate", *files)
    assert code == 1 and "BMFF-BOX-01" in out and "FAIL" in out


def test_strict_turns_warnings_into_failures(avc_segments: tuple[Path, list[Path]]) -> None:
    init, segs = avc_segments
    gappy = [str(init), str(segs[0]), str(segs[2])]  # skipping a segment leaves a gap
    code, out, _ = run("validate", "--format", "json", *gappy)
    assert code == 0
    assert any(x["rule"] == "GEN-TIME-01" for f in json.loads(out)["files"] for x in f["findings"])
    assert run("validate", "--strict", *gappy)[0] == 1
    assert run("validate", "--fail-on", "warning", *gappy)[0] == 1


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, out, err = run("validate", str(tmp_path / "nope.m4s"))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and "nope.m4s" in err and "Traceback" not in err
    assert run("validate")[0] == 2
    assert run("codecs", str(tmp_path / "nope.mp4"))[0] == 2
    assert run("validate", "--type", "nonsense", str(tmp_path))[0] == 2


def test_codecs_without_init_segment(avc_segments: tuple[Path, list[Path]]) -> None:
    code, _, err = run("codecs", str(avc_segments[1][0]))
    assert code == 1 and "no initialization segment" in err


def test_scenario_with_range_abort_and_media_before_init(
    tmp_path: Path, avc_segments: tuple[Path, list[Path]]
) -> None:
    init, segs = avc_segments
    for p in (init, *segs[:3]):
        shutil.copy(p, tmp_path / p.name)
    half = segs[1].stat().st_size // 2
    case = {
        "sourceBuffers": [{"id": "v", "type": 'video/mp4; codecs="avc1.4D400D"'}],
        "ops": [
            {"op": "append", "file": "init.mp4"},
            {"op": "append", "file": segs[0].name},
            {"op": "append", "file": segs[1].name, "range": [0, half]},
            {"op": "abort"},
            {"op": "append", "file": segs[2].name},
            {"op": "endOfStream"},
        ],
    }
    (tmp_path / "case.json").write_text(json.dumps(case))
    code, out, _ = run("validate", "--scenario", str(tmp_path / "case.json"), "--format", "json")
    doc = json.loads(out)
    assert code == 0 and errors(doc) == []
    assert doc["streams"][0]["id"] == "v"
    case["ops"] = [{"op": "append", "file": segs[0].name}, {"op": "append", "file": "init.mp4"}]
    (tmp_path / "case.json").write_text(json.dumps(case))
    code, out, _ = run("validate", "--scenario", str(tmp_path / "case.json"), "--format", "json")
    assert code == 1 and (segs[0].name, "GEN-11") in errors(json.loads(out))


def test_folder_with_two_init_segments_is_two_streams(
    tmp_path: Path, avc_segments: tuple[Path, list[Path]], aac_fmp4: Path
) -> None:
    from tests.media import split_fmp4

    a_init, a_segs = split_fmp4(aac_fmp4, tmp_path / "a")
    v_init, v_segs = avc_segments
    both = tmp_path / "both"
    both.mkdir()
    for prefix, init, segs in (("a_", a_init, a_segs), ("v_", v_init, v_segs)):
        shutil.copy(init, both / f"{prefix}init.mp4")
        for s in segs:
            shutil.copy(s, both / f"{prefix}{s.name}")
    code, out, _ = run("validate", "--format", "json", str(both))
    doc = json.loads(out)
    assert code == 0 and errors(doc) == []
    types = sorted(s["type"].split(";")[0] for s in doc["streams"])
    assert types == ["audio/mp4", "video/mp4"]
    for s in doc["streams"]:
        names = [Path(f).name for f in s["files"]]
        assert names[0].endswith("init.mp4") and all(n[:2] == names[0][:2] for n in names)
