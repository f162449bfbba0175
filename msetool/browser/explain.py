"""From a browser's MSE error message to the segment, box, byte offset and rule that caused it.

Players log what ``HTMLMediaElement.error.message`` or chrome://media-internals says, e.g.
``PipelineStatus::CHUNK_DEMUXER_ERROR_APPEND_FAILED: Found Cluster element before Info.``. The status
names the stage (append, decode, ...); the text after it is the first error Chromium's parser wrote to
its media log. :data:`SIGNATURES` maps those texts to msetool rule ids; the validator then locates the
finding in the user's files (the simulator's first append error when the validator has nothing), so the
answer is a place in the bytes, not a guess.

No browser is involved: this module is pure apart from reading the files it is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from msetool.scenario import Op, Scenario


@dataclass(frozen=True, slots=True)
class Signature:
    """A family of Chromium media log messages and the msetool rules that predict them."""

    pattern: str
    meaning: str
    rules: tuple[str, ...]
    #: Rule id prefixes accepted when none of ``rules`` fires (e.g. "BMFF-MEDIA-").
    prefixes: tuple[str, ...] = ()


#: Chromium's messages (media/formats/mp4, media/formats/webm, media/filters, media/formats/mp2t), most
#: specific first. Patterns are case-insensitive regular expressions searched in the message.
SIGNATURES: tuple[Signature, ...] = (
    Signature(
        r"unfragmented MP4|moov to contain mvex",
        "the file is a plain (progressive) MP4: MSE needs fragmented MP4 (moov/mvex, then moof+mdat)",
        ("BMFF-INIT-05",),
    ),
    Signature(
        r"base-data-offset not allowed",
        "a tfhd uses absolute base_data_offset; MSE requires movie-fragment relative addressing",
        ("BMFF-MEDIA-07",),
    ),
    Signature(
        r"Reserved value used in sample dependency info",
        "a sample's flags set sample_depends_on to the reserved value 3 (trun/tfhd/trex sample flags)",
        ("BMFF-MEDIA-16",),
    ),
    Signature(
        r"(Video|Audio) stream codec \S+ doesn't match SourceBuffer codecs",
        "the initialization segment carries a codec the addSourceBuffer() type does not declare",
        ("CODEC-12",),
        ("CODEC-",),
    ),
    Signature(
        r"misses expected \S+ track|Initialization segment misses",
        "the type declares a codec that has no track in the initialization segment",
        ("CODEC-15",),
        ("CODEC-",),
    ),
    Signature(
        r"audio object type 0x[0-9a-f]+ does not match|does not match what is specified in the mimetype",
        "the AAC object type in the esds differs from the codecs parameter",
        ("BMFF-INIT-19", "CODEC-12"),
        ("CODEC-",),
    ),
    Signature(
        r"Unsupported (audio|video)? ?(format|codec|VisualSampleEntry|AudioSampleEntry)|Unsupported .*codec",
        "a sample entry names a codec this browser cannot play",
        ("BMFF-INIT-13", "WEBM-INIT-08", "CODEC-02"),
    ),
    Signature(
        r"Sample encryption info is not available|saiz|saio|senc",
        "encrypted samples without complete sample encryption information",
        ("BMFF-MEDIA-22", "BMFF-INIT-17"),
    ),
    Signature(
        r"Found Cluster element before Info|Cluster element before|Info and Tracks",
        "a WebM media segment (Cluster) arrived before the initialization segment "
        "(EBML, Segment, Info, Tracks)",
        ("WEBM-INIT-03", "GEN-11"),
    ),
    Signature(
        r"Got a block with a timecode before the previous block|timecode before the previous",
        "WebM blocks go back in time inside a track",
        ("WEBM-MEDIA-04",),
    ),
    Signature(
        r"Cluster ?(Timecode|Timestamp)|missing cluster timecode",
        "a Cluster lacks its Timestamp element (or it is not first)",
        ("WEBM-MEDIA-03",),
    ),
    Signature(
        r"Parsed buffers not in DTS sequence|decode timestamp.*(before|less)|not in DTS",
        "decode timestamps go backwards inside one append (frames out of DTS order)",
        ("WEBM-MEDIA-04",),
        ("TS-", "MPEG-", "BMFF-MEDIA-", "TL-"),
    ),
    Signature(
        r"did not begin with key frame|keyframe",
        "a media segment starts with a frame that depends on earlier frames; Chromium drops frames until "
        "the next keyframe",
        (),
        ("WEBM-RAP-", "TL-RAP", "BMFF-MEDIA-20"),
    ),
    Signature(
        r"track_id|track id|Track ID",
        "a fragment refers to a track the initialization segment does not declare",
        ("BMFF-MEDIA-13", "GEN-01"),
    ),
    Signature(
        r"Failure parsing MP4|MP4",
        "the MP4 parser rejected a box",
        (),
        ("BMFF-",),
    ),
    Signature(
        r"WebM|EBML|Matroska",
        "the WebM parser rejected an element",
        (),
        ("WEBM-",),
    ),
    Signature(
        r"stream parsing failed|CHUNK_DEMUXER_ERROR_APPEND_FAILED|APPEND_FAILED",
        "the byte stream parser rejected the appended bytes (the append error algorithm ran)",
        ("GEN-12", "GEN-11", "GEN-DETECT-01"),
        ("BMFF-", "WEBM-", "TS-", "MPEG-", "MPA-", "GEN-"),
    ),
    Signature(
        r"DECODE|decoder|decode error",
        "the bytes parsed but the decoder failed on them (codec configuration or bitstream)",
        ("BMFF-INIT-14", "BMFF-INIT-13", "WEBM-INIT-08"),
        ("CODEC-",),
    ),
)

_STATUS = re.compile(r"(?:PipelineStatus::)?([A-Z][A-Z0-9_]{6,})")


def parse_message(message: str) -> dict[str, Any]:
    """Split a pasted message into the pipeline status and Chromium's detail text."""
    text = " ".join(message.strip().split())
    status = None
    m = _STATUS.search(text)
    if m and ("ERROR" in m.group(1) or m.group(1).startswith(("MEDIA_ERR", "PIPELINE", "DEMUXER"))):
        status = m.group(1)
    detail = text
    if status:
        detail = text[m.end() :].lstrip(" :") if m else text
    # Chromium appends the generic parser-loop line; the first specific sentence is the cause.
    detail = re.sub(r"^Failure parsing MP4:\s*", "", detail)
    return {"text": text, "status": status, "detail": detail}


def match_signatures(message: str) -> list[Signature]:
    return [s for s in SIGNATURES if re.search(s.pattern, message, re.IGNORECASE)]


def _load_rule_modules() -> None:
    """Import every rules module so the catalog holds every format's rules (they register on import)."""
    import importlib
    import pkgutil

    import msetool.rules

    for mod in pkgutil.iter_modules(msetool.rules.__path__):
        try:
            importlib.import_module(f"msetool.rules.{mod.name}")
        except ImportError:  # a format still being written must not break explain
            continue


def catalog_rules(detail: str) -> list[str]:
    """Rules whose catalog entry quotes this very Chromium message (rule authors quote the media log)."""
    from msetool.rules.catalog import RULES

    _load_rule_modules()

    want = " ".join(detail.split())
    if len(want) < 12:
        return []
    out = []
    for r in RULES.values():
        for quoted in re.findall(r"'([^']{12,})'", r.browser):
            q = quoted.strip().rstrip(".")
            if q.startswith("s ") or " " not in q:  # the tail of "Chromium's ...", not a quote
                continue
            # Catalog quotes write variable parts as X, N or "..": match any word there.
            parts = re.split(r"\b[XN]\b|\.\.", q)
            rx = r"\S+".join(re.escape(p) for p in parts)
            if re.search(rx, want, re.IGNORECASE):
                out.append(r.id)
                break
    return out


def _sb_items(scenario: Scenario, sb_id: str, default_sb: str) -> list[Any]:
    """One SourceBuffer's appends and cuts, as validate's stream items."""
    from msetool.mime import parse_mime
    from msetool.rules.engine import Reset, Slice
    from msetool.source import FileSource

    items: list[Any] = []

    def walk(ops: tuple[Op, ...]) -> None:
        for op in ops:
            if op.op == "batch":
                walk(op.ops)
                continue
            if (op.sb or default_sb) != sb_id:
                continue
            if op.op == "append":
                name = str(op.args["file"])
                src = FileSource(scenario.file_path(name), name=name)
                rng = op.args.get("range")
                if rng:
                    items.append(Slice(src, int(rng[0]), int(rng[1]), label=name))
                else:
                    items.append(Slice(src, label=name))
            elif op.op == "abort":
                items.append(Reset("abort"))
            elif op.op == "changeType":
                items.append(Reset("changeType", parse_mime(str(op.args["type"]))))

    walk(scenario.ops)
    return items


def _findings(scenario: Scenario) -> list[dict[str, Any]]:
    """Every finding of every SourceBuffer's stream, in append order, with the rule's title."""
    from msetool.rules.catalog import RULES
    from msetool.rules.engine import Slice, validate_stream

    out: list[dict[str, Any]] = []
    default_sb = scenario.source_buffers[0].id
    for sb in scenario.source_buffers:
        items = _sb_items(scenario, sb.id, default_sb)
        try:
            if not items:
                continue
            result = validate_stream(items, sb.type)
        finally:
            for it in items:
                if isinstance(it, Slice):
                    close = getattr(it.source, "close", None)
                    if close:
                        close()
        for f in result.findings:
            r = RULES.get(f.rule)
            out.append(
                {
                    "sb": sb.id,
                    "rule": f.rule,
                    "severity": f.severity.value,
                    "message": f.message,
                    "file": f.file,
                    "offset": f.offset,
                    "box": f.box,
                    "title": r.title if r else "",
                    "browser": r.browser if r else "",
                    "spec": f.spec,
                }
            )
    return out


def _score(f: dict[str, Any], sigs: list[Signature], words: set[str]) -> int:
    score = 0
    for rank, s in enumerate(sigs):
        weight = len(sigs) - rank
        if f["rule"] in s.rules:
            score = max(score, 100 * weight)
        elif any(f["rule"].startswith(p) for p in s.prefixes):
            score = max(score, 10 * weight)
    text = f"{f['message']} {f['title']}".lower()
    score += sum(1 for w in words if w in text)
    if f["severity"] == "error":
        score += 5
    return score


def explain(message: str, scenario: Scenario | None) -> dict[str, Any]:
    """What the message means, the rules that predict it and, given the files, where it comes from."""
    parsed = parse_message(message)
    sigs = match_signatures(parsed["text"])
    quoted = catalog_rules(parsed["detail"])
    if quoted:
        sigs.insert(0, Signature(re.escape(parsed["detail"]), sigs[0].meaning if sigs else "", tuple(quoted)))
    out: dict[str, Any] = {
        "message": parsed["text"],
        "status": parsed["status"],
        "detail": parsed["detail"],
        "meaning": next((s.meaning for s in sigs if s.meaning), None),
        "rules": list(sigs[0].rules) if sigs else [],
        "located": False,
        "searched": scenario is not None,
        "cause": None,
        "candidates": [],
    }
    if scenario is None:
        return out
    findings = _findings(scenario)
    words = {w.lower() for w in re.findall(r"[A-Za-z]{4,}", parsed["detail"])} - {
        "failed", "stream", "parsing", "append", "window", "start", "error", "runsegmentparserloop",
        "pipelinestatus", "chunk", "demuxer",
    }  # fmt: skip
    ranked = sorted(
        ((f, _score(f, sigs, words)) for f in findings if f["severity"] in ("error", "warning")),
        key=lambda fs: -fs[1],
    )
    out["candidates"] = [dict(f, score=s) for f, s in ranked[:5]]
    best = next((f for f, s in ranked if s >= 10 or (f["severity"] == "error" and not sigs)), None)
    if best is None and ranked and ranked[0][0]["severity"] == "error":
        best = ranked[0][0]
    if best is None:
        best = _simulated_cause(scenario)
    if best is not None:
        out["cause"] = best
        out["located"] = True
    return out


def _simulated_cause(scenario: Scenario) -> dict[str, Any] | None:
    """The simulator's first append error, when the static rules found nothing: it replays the page's
    operations, so it also sees what only goes wrong in sequence (a segment before its init...)."""
    from msetool.rules.catalog import RULES

    try:
        from msetool.mse.scenario_runner import run_scenario
    except ImportError:  # pragma: no cover - the simulator ships with msetool
        return None
    result = run_scenario(scenario, "chromium")
    for st in result.get("steps", []):
        err = st.get("error")
        if isinstance(err, dict) and err.get("message"):
            rule_id = str(err.get("rule") or "GEN-12")
            r = RULES.get(rule_id)
            return {
                "sb": (st.get("op") or {}).get("sb") or scenario.source_buffers[0].id,
                "rule": rule_id,
                "severity": "error",
                "message": str(err["message"]),
                "file": str(err.get("file") or (st.get("op") or {}).get("file") or ""),
                "offset": err.get("offset"),
                "box": str(err.get("box") or ""),
                "title": r.title if r else "",
                "browser": r.browser if r else "",
                "spec": r.spec if r else "",
                "step": st.get("index"),
                "source": "simulator",
            }
    return None


def render_explanation(result: dict[str, Any]) -> str:
    lines = [f"browser: {result['message']}"]
    if result.get("status"):
        lines.append(f"  status: {result['status']}")
    if result.get("meaning"):
        lines.append(f"  means:  {result['meaning']}")
    if result.get("rules"):
        lines.append(f"  rules:  {', '.join(result['rules'])}")
    cause = result.get("cause")
    if cause:
        where = f"{cause['file'] or '<stream>'}"
        if cause.get("offset") is not None:
            where += f" @ byte {cause['offset']}"
        if cause.get("box"):
            where += f" ({cause['box']})"
        lines.append(f"cause: {where}")
        lines.append(f"  rule {cause['rule']} [{cause['severity']}]: {cause['title']}")
        lines.append(f"  {cause['message']}")
        if cause.get("browser"):
            lines.append(f"  in the browser: {cause['browser']}")
        others = [
            c for c in result.get("candidates", []) if c is not cause and c.get("rule") != cause["rule"]
        ]
        for c in others[:3]:
            off = "" if c.get("offset") is None else f" @ {c['offset']}"
            lines.append(f"  also: {c['rule']} {c['file']}{off}: {c['message']}")
    elif result.get("searched"):
        lines.append("cause: not located: msetool finds nothing in these files that explains the message")
    else:
        lines.append("cause: give the segments (FILES in append order, or --scenario) to locate it")
    return "\n".join(lines)
