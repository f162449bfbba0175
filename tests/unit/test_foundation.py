from __future__ import annotations

import math
from pathlib import Path

import pytest

from msetool.errors import UsageError
from msetool.mime import parse_mime
from msetool.scenario import load_scenario, number, parse_scenario
from msetool.source import BytesSource, FileSource


def test_parse_mime_with_codecs() -> None:
    m = parse_mime('Video/MP4; codecs="avc1.64001F, mp4a.40.2"')
    assert m.essence == "video/mp4"
    assert m.codecs == ("avc1.64001F", "mp4a.40.2")
    assert str(m) == 'video/mp4; codecs="avc1.64001F,mp4a.40.2"'


def test_parse_mime_semicolon_inside_quotes() -> None:
    assert parse_mime('audio/mp4; codecs="a;b"').codecs == ("a;b",)


@pytest.mark.parametrize("bad", ["", "video", "video/", "video/mp4; codecs"])
def test_parse_mime_rejects(bad: str) -> None:
    with pytest.raises(UsageError):
        parse_mime(bad)


def test_scenario_numbers() -> None:
    assert number("Infinity") == math.inf
    assert math.isnan(number("NaN"))
    with pytest.raises(UsageError):
        number("soon")


def test_parse_scenario_batch(tmp_path: Path) -> None:
    sc = parse_scenario(
        {"sourceBuffers": [{"id": "a", "type": "video/mp4"}],
         "ops": [{"op": "batch", "ops": [{"op": "append", "file": "x", "wait": False}, {"op": "abort"}]}]},
        tmp_path,
    )
    assert sc.ops[0].ops[0].args == {"file": "x", "wait": False}
    assert sc.ops[0].to_json()["ops"][1] == {"op": "abort"}


def test_scenario_errors_name_the_file(tmp_path: Path) -> None:
    p = tmp_path / "case.json"
    p.write_text('{"sourceBuffers": [], "ops": []}')
    with pytest.raises(UsageError, match=r"case\.json"):
        load_scenario(p)
    with pytest.raises(UsageError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")


def test_sources_agree(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10
    p = tmp_path / "f.bin"
    p.write_bytes(data)
    with FileSource(p) as f:
        b = BytesSource(data)
        assert f.size == b.size == len(data)
        for off, n in [(0, 8), (2550, 100), (3000, 5), (100, 0)]:
            assert f.read_at(off, n) == b.read_at(off, n)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_filesource_missing_file_raises_oserror_only(tmp_path: Path) -> None:
    import gc

    with pytest.raises(FileNotFoundError):
        FileSource(tmp_path / "missing")
    gc.collect()  # an exception in __del__ would be reported as unraisable here
