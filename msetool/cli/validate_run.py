"""``msetool validate`` and ``msetool codecs`` without click: files, folders and scenarios in; a report and
an exit code out. :mod:`msetool.cli.validate_cmd` declares the commands for click; plain invocations reach
:func:`run_validate`/:func:`run_codecs` without it (:mod:`msetool.cli.fast`).

Everything about bytes lives in :mod:`msetool.rules.engine`; this module resolves what the user named into
byte streams (files in append order, a folder's init segment then its segments in natural order, or each
SourceBuffer of a scenario with its appends, aborts and changeType calls) and renders the result.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, ClassVar

from msetool.cli.run import echo
from msetool.errors import UsageError
from msetool.mime import MimeType, parse_mime
from msetool.report import exitcodes
from msetool.report.summary import Report, StreamInfo
from msetool.rules.catalog import finding
from msetool.rules.findings import Finding, Severity
from msetool.source import FileSource

if TYPE_CHECKING:
    from msetool.scenario import Op, Scenario

#: Files a packager writes next to segments that are not part of the byte stream.
_NOT_MEDIA = {
    ".json",
    ".m3u8",
    ".mpd",
    ".txt",
    ".md",
    ".html",
    ".xml",
    ".yaml",
    ".yml",
    ".csv",
    ".log",
    ".py",
    ".sh",
    ".js",
    ".vtt",
    ".srt",
}


def natural_key(name: str) -> list[Any]:
    """'seg2' before 'seg10'."""
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", name)]


# Paths are plain strings spelled exactly as pathlib spells them (``str(Path(raw))``, ``Path(dir) / name``),
# with pathlib's answers for is_dir()/is_file()/exists(): the report shows these names, and pathlib (with
# urllib.parse and ipaddress behind it) is a noticeable part of a validation's start-up.
#: errors pathlib's is_dir()/is_file()/exists() answer False to (any other error is raised, as there)
_IGNORED_ERRNOS = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _mode(path: str) -> int | None:
    """``os.stat(path).st_mode``, or None where pathlib would say the path is neither a file nor a folder."""
    try:
        return os.stat(path).st_mode
    except OSError as e:
        if e.errno not in _IGNORED_ERRNOS:
            raise
        return None
    except ValueError:  # a name the OS cannot take (NUL byte)
        return None


def _is_dir(path: str) -> bool:
    mode = _mode(path)
    return mode is not None and stat.S_ISDIR(mode)


def _is_file(path: str) -> bool:
    mode = _mode(path)
    return mode is not None and stat.S_ISREG(mode)


def _norm(raw: str) -> str:
    """``str(pathlib.Path(raw))``: empty and "." parts dropped, a leading "//" (exactly two) kept."""
    if os.name != "posix":
        from pathlib import Path

        return str(Path(raw))
    root = ("//" if raw[:2] == "//" and raw[:3] != "///" else "/") if raw[:1] == "/" else ""
    parts = [x for x in raw.split("/") if x and x != "."]
    return root + "/".join(parts) if root or parts else "."


def _child(folder: str, name: str) -> str:
    """``str(pathlib.Path(folder) / name)`` for a normalised folder and a name from os.listdir()."""
    if os.name != "posix":
        from pathlib import Path

        return str(Path(folder) / name)
    if folder == ".":
        return name
    return folder + name if folder.endswith("/") else f"{folder}/{name}"


def _name(path: str) -> str:
    """``pathlib.Path(path).name`` of a normalised path."""
    if os.name != "posix":
        from pathlib import Path

        return Path(path).name
    return "" if path in (".", "/", "//") else path.rpartition("/")[2]


def _suffix(path: str) -> str:
    """``pathlib.Path(path).suffix``."""
    name = _name(path)
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def _looks_like_init(path: str) -> bool:
    if "init" in _name(path).lower():
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head[4:8] in (b"ftyp", b"moov") or head[:4] == b"\x1a\x45\xdf\xa3"


def _folder_files(p: str) -> list[str]:
    files = sorted(
        (
            c
            for c in (_child(p, n) for n in os.listdir(p))
            if _is_file(c) and not _name(c).startswith(".") and _suffix(c).lower() not in _NOT_MEDIA
        ),
        key=lambda c: natural_key(_name(c)),
    )
    if not files:
        raise UsageError(f"{p}: folder holds no segment files")
    return files


def _folder_streams(p: str) -> list[list[str]]:
    """A folder's byte streams: its init segment, then the other files in natural order (unless every name
    starts with a number: then that number is the append order). A folder holding
    several init segments (``v_init.mp4`` + ``v_seg*.m4s``, ``a_init.mp4`` + ``a_seg*.m4s``) holds one stream
    per init: each file goes with the init whose name prefix (the part before "init") it shares."""
    files = _folder_files(p)
    if all(re.match(r"\d+[-_. ]", _name(f)) for f in files):
        return [files]  # every name starts with its append position ("1-seg.m4s", "2-init.mp4"): keep it
    inits = [f for f in files if _looks_like_init(f)]
    rest = [f for f in files if f not in inits]
    prefixed = [f for f in inits if "init" in _name(f).lower()]
    if len(inits) <= 1 or len(prefixed) != len(inits):
        return [inits + rest]
    prefixes = {f: _name(f)[: _name(f).lower().index("init")] for f in inits}
    groups: dict[str, list[str]] = {f: [f] for f in inits}
    for f in rest:
        best = max(inits, key=lambda i: (_name(f).startswith(prefixes[i]), len(prefixes[i])))
        groups[best].append(f)
    return [g for g in groups.values()]


def expand_streams(paths: tuple[str, ...]) -> list[list[str]]:
    """The byte streams the user named: the plain files together, in the order given; each folder on its
    own (see :func:`_folder_streams`). Paths are spelled as pathlib spells them."""
    files: list[str] = []
    folders: list[list[str]] = []
    for raw in paths:
        p = _norm(raw)
        if _is_dir(p):
            folders.extend(_folder_streams(p))
        elif _mode(p) is not None:
            files.append(p)
        else:
            raise UsageError(f"{p}: no such file or folder")
    return ([files] if files else []) + folders


def expand_inputs(paths: tuple[str, ...]) -> list[str]:
    """Every file the user named, streams in order (files as given; folders init first)."""
    return [p for stream in expand_streams(paths) for p in stream]


class LazyFile:
    """A ByteSource over a file that holds no descriptor between reads beyond a small shared cache, so a
    stream of thousands of segment files never runs into the open-files limit."""

    _cache: ClassVar[OrderedDict[str, FileSource]] = OrderedDict()
    _CACHE_SIZE: ClassVar[int] = 16

    def __init__(self, path: str | os.PathLike[str], name: str) -> None:
        self.path = str(path)
        self.name = name
        self._size = os.stat(self.path).st_size

    @property
    def size(self) -> int:
        return self._size

    def _fd(self) -> FileSource:
        src = self._cache.get(self.path)
        if src is None:
            try:
                src = FileSource(self.path, name=self.name)
            except OSError as e:
                raise UsageError(f"{self.path}: cannot read: {e.strerror or e}") from None
            self._cache[self.path] = src
            while len(self._cache) > self._CACHE_SIZE:
                _, old = self._cache.popitem(last=False)
                old.close()
        else:
            self._cache.move_to_end(self.path)
        return src

    def read_at(self, offset: int, length: int) -> bytes:
        try:
            return self._fd().read_at(offset, length)
        except OSError as e:
            raise UsageError(f"{self.path}: cannot read: {e.strerror or e}") from None

    def close(self) -> None:
        src = self._cache.pop(self.path, None)
        if src is not None:
            src.close()


def _open(path: str | os.PathLike[str], label: str | None = None) -> LazyFile:
    """Check the file is readable now (so a bad path is one clear line up front) and read it lazily."""
    if _is_dir(os.fspath(path)):
        raise UsageError(f"{path}: is a folder, expected a file")
    try:
        with open(path, "rb"):
            pass
        return LazyFile(path, label if label is not None else str(path))
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e.strerror or e}") from None


class _Stream:
    """One SourceBuffer's appends in op order (a plain class: a dataclass costs start-up on every run)."""

    __slots__ = ("files", "id", "items", "moves_timeline", "type")

    def __init__(self, id: str, type: str | None) -> None:
        self.id = id
        self.type = type
        self.items: list[Any] = []
        self.files: list[str] = []
        #: the page moves segments on the timeline (timestampOffset, sequence mode)
        self.moves_timeline = False


def scenario_streams(sc: Scenario, profile: str = "chromium") -> list[_Stream]:
    """Each SourceBuffer's byte stream in op order, the way the page would have fed it.

    A call the browser refuses contributes nothing: changeType() to a type ``check_type`` refuses (or to
    '') throws, so the stream keeps its type and parser.

    Inside a ``batch`` the page does not wait: an append made while another is pending throws (its bytes
    never arrive), as do changeType and endOfStream; an abort() right after an append discards that
    append's bytes (they were still queued).
    """
    from msetool.codecs.support import check_type
    from msetool.rules.engine import Reset, Slice

    streams = {sb.id: _Stream(sb.id, sb.type) for sb in sc.source_buffers}
    default = sc.source_buffers[0].id
    sources: dict[str, LazyFile] = {}

    def stream_of(op: Op) -> _Stream:
        sid = op.sb or default
        if sid not in streams:
            raise UsageError(f"scenario: op {op.op} names source buffer {sid!r}, which is not declared")
        return streams[sid]

    def do(op: Op, pending: dict[str, Any] | None) -> None:
        st = stream_of(op) if op.op in ("append", "abort", "changeType") else None
        if op.op == "append" and st is not None:
            if pending is not None and pending.get(st.id) is not None:
                return  # InvalidStateError: still updating
            name = str(op.args["file"])
            path = sc.file_path(name)
            if name not in sources:
                if not path.is_file():
                    raise UsageError(f"scenario: {path}: no such file")
                sources[name] = _open(path, str(path))
            rng = op.args.get("range")
            start, end = 0, None
            if rng is not None:
                if not (isinstance(rng, list) and len(rng) == 2 and all(isinstance(x, int) for x in rng)):
                    raise UsageError(f"scenario: append of {name}: range must be [start, end] in bytes")
                start, end = int(rng[0]), int(rng[1])
            sl = Slice(sources[name], start, end, str(path))
            st.items.append(sl)
            if str(path) not in st.files:
                st.files.append(str(path))
            if pending is not None and op.args.get("wait") is False:
                pending[st.id] = sl
        elif op.op == "abort" and st is not None:
            if pending is not None and pending.get(st.id) is not None:
                st.items.remove(pending[st.id])
                pending[st.id] = None
            st.items.append(Reset("abort"))
        elif op.op == "changeType" and st is not None:
            if pending is not None and pending.get(st.id) is not None:
                return  # InvalidStateError
            new_type = op.args.get("type")
            if not isinstance(new_type, str) or not check_type(new_type, profile).supported:
                return  # TypeError ('') / NotSupportedError: it throws, the SourceBuffer keeps its type
            st.items.append(Reset("changeType", parse_mime(new_type)))
            st.type = new_type
        elif op.op == "set":
            sid = op.sb or default
            if sid in streams and (
                op.args.get("mode") == "sequence" or op.args.get("timestampOffset", 0) not in (0, "0")
            ):
                streams[sid].moves_timeline = True
        elif op.op == "endOfStream":
            if pending is not None and any(v is not None for v in pending.values()):
                return
            for s in streams.values():
                s.items.append(Reset("endOfStream"))
        elif op.op == "batch":
            inner: dict[str, Any] = {}
            for o in op.ops:
                do(o, inner)

    for op in sc.ops:
        do(op, None)
    return list(streams.values())


def _validate_scenario(path: str, options: Any) -> tuple[list[Finding], list[str], list[StreamInfo]]:
    from msetool.rules.engine import validate_stream
    from msetool.scenario import load_scenario

    sc = load_scenario(path)
    findings: list[Finding] = []
    files: list[str] = []
    infos: list[StreamInfo] = []
    models = []
    for st in scenario_streams(sc, options.profile):
        first = next((sb.type for sb in sc.source_buffers if sb.id == st.id), None)
        try:
            mime = parse_mime(first) if first else None
        except UsageError as e:  # addSourceBuffer() throws: nothing of this SourceBuffer reaches a parser
            files.extend(f for f in st.files if f not in files)
            findings.append(
                finding(
                    "GEN-MIME-01",
                    f"addSourceBuffer({first!r}) throws ({e}): nothing can be appended",
                    file=st.files[0] if st.files else "",
                    offset=None,
                )
            )
            infos.append(StreamInfo(st.id, first, None, list(st.files)))
            continue
        opts = options.replace(raw_timeline=False) if st.moves_timeline else options
        v = validate_stream(st.items, mime, opts)
        findings.extend(v.findings)
        for f in v.files:
            if f not in files:
                files.append(f)
        infos.append(StreamInfo(st.id, first, v.format, v.files))
        if not st.moves_timeline:
            models.append(v.model)
    findings.extend(_pair_findings(models))
    return findings, files, infos


def _pair_findings(models: list[Any]) -> list[Finding]:
    from msetool.rules.timeline import check_pair

    try:
        return check_pair(models)
    except Exception:  # a cross-stream summary must never cost the report
        return []


def _emit(report: Report, fmt: str) -> None:
    if fmt == "json":
        from msetool.report.json_ import render as rj

        echo(rj(report), nl=False)
    elif fmt == "junit":
        from msetool.report.junit import render as ru

        echo(ru(report), nl=False)
    elif fmt == "github":
        from msetool.report.github import render as rg

        echo(rg(report), nl=False)
    else:
        from rich.console import Console

        from msetool.report.text import render as rt

        rt(report, Console(highlight=False, soft_wrap=False))


def run_validate(
    inputs: tuple[str, ...],
    *,
    mime: str | None,
    scenario: str | None,
    fmt: str,
    strict: bool,
    fail_on: str | None,
    target_duration: float | None,
    profile: str,
    html_path: str | None = None,
    deep: bool = False,
) -> None:
    """``msetool validate`` (help text in :mod:`msetool.cli.validate_cmd`); exits with the report's code."""
    from msetool.rules.engine import ValidateOptions, validate_stream

    if scenario and inputs:
        raise UsageError("give either --scenario or files, not both")
    if scenario and mime:
        raise UsageError("--type does not apply to --scenario (each SourceBuffer declares its type)")
    if not scenario and not inputs:
        raise UsageError("nothing to validate: give files, folders or --scenario CASE.json")
    level = Severity(fail_on) if fail_on else (Severity.WARNING if strict else Severity.ERROR)
    options = ValidateOptions(profile=profile, target_duration=target_duration,  # type: ignore[arg-type]
                              deep=deep)
    if scenario:
        # A scenario reproduces what a page does op by op, on test-sized files: every sample gets Chromium's
        # checks (a corrupt NAL length in any H.264 frame fails the append), as in --deep.
        findings, files, streams = _validate_scenario(scenario, options.replace(deep=True))
    else:
        declared: MimeType | None = parse_mime(mime) if mime else None
        findings, files, streams = [], [], []
        models = []
        groups = expand_streams(inputs)
        for i, paths in enumerate(groups):
            sources = [_open(p) for p in paths]
            try:
                v = validate_stream(sources, declared, options)
            finally:
                for src in sources:
                    src.close()
            findings.extend(v.findings)
            names = [str(p) for p in paths]
            files.extend(n for n in names if n not in files)
            sid = "stream" if len(groups) == 1 else f"stream{i + 1}"
            typ = str(declared) if declared else (type_for(v.model.inits[0].init) if v.model.inits else None)
            streams.append(StreamInfo(sid, typ or (str(v.mime) if v.mime else None), v.format, names))
            models.append(v.model)
        findings.extend(_pair_findings(models))
    report = Report.build(findings, files, fail_on=level, streams=streams)
    if html_path:
        from msetool.report.html import validate_page, write_html

        write_html(html_path, validate_page(report, scenario))
    _emit(report, fmt)
    sys.exit(report.exit_code)


# --------------------------------------------------------------------------------------------------------
# msetool codecs

_FORMAT_TYPES = {"mp4": "mp4", "webm": "webm", "mp2t": "mp2t"}


def type_for(init: Any) -> str:
    """The exact addSourceBuffer() type: video/ when a video track exists, codecs in track order."""
    fmt = init.format
    tracks = [t for t in init.tracks if t.kind in ("audio", "video")]
    if fmt == "mpeg":
        codec = tracks[0].codec if tracks else ""
        return "audio/aac" if codec.startswith("mp4a") or codec == "aac" else "audio/mpeg"
    major = "video" if any(t.kind == "video" for t in tracks) else "audio"
    sub = _FORMAT_TYPES.get(fmt, fmt)
    codecs = ",".join(t.codec for t in tracks)
    return f'{major}/{sub}; codecs="{codecs}"' if codecs else f"{major}/{sub}"


def run_codecs(files: tuple[str, ...], fmt: str) -> None:
    """``msetool codecs`` (see its help in :mod:`msetool.cli.validate_cmd`)."""
    import json

    from msetool.codecs.rfc6381 import describe
    from msetool.rules.engine import init_segments

    paths = expand_inputs(files)
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    for p in paths:
        src = _open(p)
        try:
            inits = init_segments([src])
        finally:
            src.close()
        if not inits:
            if (
                len(paths) == 1
                or "init" in _name(p).lower()
                or _suffix(p).lower() in (".mp4", ".webm", ".mp3", ".aac")
            ):
                missing.append(str(p))
            continue
        init = inits[0]
        rows.append(
            {
                "path": str(p),
                "type": type_for(init),
                "format": init.format,
                "tracks": [
                    {
                        "id": t.track_id,
                        "kind": t.kind,
                        "codec": t.codec,
                        "description": describe(t.codec) if t.codec else "",
                        "coding_name": t.coding_name,
                        "width": t.width,
                        "height": t.height,
                        "sample_rate": t.sample_rate,
                        "channels": t.channels,
                        "language": t.language,
                    }
                    for t in init.tracks
                ],
            }
        )
    if fmt == "json":
        echo(json.dumps({"files": rows, "missing": missing}, indent=2))
    else:
        for r in rows:
            echo(r["type"] if len(paths) == 1 else f"{r['path']}: {r['type']}")
    for m in missing:
        echo(f"msetool: {m}: no initialization segment found", err=True)
    if missing or not rows:
        if not rows and not missing:
            echo("msetool: no initialization segment found in the inputs", err=True)
        sys.exit(exitcodes.FINDINGS)
