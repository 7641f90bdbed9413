#!/usr/bin/env python3
"""Independent equivalence checker for forewarn's fingerprinted code blocks.

    python3 check.py variants.json        # or - for standard input
    python3 check.py --self-test          # the fixtures: good ones must pass, bad ones must be caught

The input is what `forewarn-mark`'s `variants` example prints:
{"items": [{"source", "block", "lang", "original", "points", "variants": [...]}]}. Every variant is checked
against its original with the language's own tools (see README.md); a failure prints the source, block, variant
index, the reasons and a diff of the two texts. Exit status 1 on any failure, and on any missing tool unless
--allow-missing (then the languages it would check are listed as skipped).
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import dataclasses
import glob
import io
import json
import os
import re
import sys

sys.dont_write_bytecode = True  # leave no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from eqcheck.common import DIFF_LINES, Invalid, MissingTool, diff  # noqa: E402
from eqcheck.programs import CChecker, JavaScriptChecker, ShellChecker  # noqa: E402
from eqcheck.python_lang import PythonChecker  # noqa: E402
from eqcheck.sigma_lang import SigmaChecker  # noqa: E402
from eqcheck.suricata_lang import SuricataChecker  # noqa: E402
from eqcheck.yara_lang import YaraChecker  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AUTHOR_MARKER = re.compile(r"\{\{[^{}]*\|[^{}]*\}\}")
FIXTURES = os.path.join(HERE, "fixtures")

LANGUAGES = {
    "python": "python", "py": "python", "python3": "python",
    "suricata": "suricata", "rules": "suricata",
    "yara": "yara", "yar": "yara",
    "sh": "shell", "bash": "shell", "shell": "shell",
    "c": "c",
    "javascript": "javascript", "js": "javascript",
    "sigma": "sigma", "yaml": "sigma", "yml": "sigma",
}
CHECKERS = {
    "python": PythonChecker, "suricata": SuricataChecker, "yara": YaraChecker, "sigma": SigmaChecker,
    "shell": ShellChecker, "c": CChecker, "javascript": JavaScriptChecker,
}


@dataclasses.dataclass
class Failure:
    item: dict
    variant: int | None  # None: the original itself could not be checked
    reasons: list[str]


@dataclasses.dataclass
class Report:
    sources: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    variants: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    failures: list[Failure] = dataclasses.field(default_factory=list)
    notes: dict[str, collections.Counter] = dataclasses.field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    skipped: list[str] = dataclasses.field(default_factory=list)  # unknown languages
    missing: dict[str, str] = dataclasses.field(default_factory=dict)  # language -> missing tool
    allow_missing: bool = False

    @property
    def ok(self) -> bool:
        return not self.failures and (self.allow_missing or not self.missing)


def language(item: dict) -> str | None:
    return LANGUAGES.get(str(item.get("lang", "")).strip().lower())


def check_document(document: dict, allow_missing: bool = False, jobs: int = 2) -> tuple[Report, list]:
    """Check every item; returns the report and, per item, its verdicts (None where the original was invalid)."""
    report = Report(allow_missing=allow_missing)
    items = document.get("items", [])
    checkers = {}
    for lang in sorted({language(i) for i in items} - {None}):
        checker = CHECKERS[lang]()
        try:
            checker.tools()
        except MissingTool as e:
            report.missing[lang] = str(e)
            continue
        checkers[lang] = checker

    def check_item(item: dict):
        checker = checkers[language(item)]
        try:
            prepared = checker.prepare(item)
        except MissingTool:
            raise
        except Invalid as e:
            hint = ("\n(the original still has author's {{a|b}} markers: the variants tool should print the"
                    " text with each marker resolved)") if AUTHOR_MARKER.search(item["original"]) else ""
            return None, str(e) + hint
        return [checker.check(prepared, v) for v in item.get("variants", [])], None

    work = []
    for item in items:
        lang = language(item)
        if lang is None:
            report.skipped.append(f"{item.get('source')} block {item.get('block')} (lang {item.get('lang')!r})")
        elif lang in report.missing:
            target = report.skipped if allow_missing else None
            if target is not None:
                target.append(f"{item.get('source')} block {item.get('block')} ({lang}: {report.missing[lang]})")
            else:
                report.failures.append(Failure(item, None, [f"tool missing: {report.missing[lang]}"]))
        else:
            work.append(item)

    outcomes = {}
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {id(item): pool.submit(check_item, item) for item in work}
            for item in work:
                try:
                    outcomes[id(item)] = futures[id(item)].result()
                except MissingTool as e:
                    outcomes[id(item)] = (None, f"tool missing: {e}")
    finally:
        for checker in checkers.values():
            checker.close()

    all_verdicts = []
    for item in items:
        if id(item) not in outcomes:
            all_verdicts.append(None)
            continue
        lang = language(item)
        verdicts, invalid = outcomes[id(item)]
        report.sources[lang] += 1
        report.variants[lang] += len(item.get("variants", []))
        if invalid is not None:
            report.failures.append(Failure(item, None, [invalid]))
            all_verdicts.append(None)
            continue
        for index, verdict in enumerate(verdicts):
            for note in verdict.notes:
                report.notes[lang][note.splitlines()[0]] += 1
            if not verdict.equivalent:
                report.failures.append(Failure(item, index, verdict.reasons))
        all_verdicts.append(verdicts)
    return report, all_verdicts


def print_report(report: Report, out=sys.stdout) -> None:
    for f in report.failures:
        item = f.item
        where = f"{item.get('source')} block {item.get('block')} ({item.get('lang')})"
        if f.variant is None:
            print(f"\nFAIL {where}, original: cannot be checked", file=out)
        else:
            print(f"\nFAIL {where}, variant {f.variant}: not equivalent", file=out)
        for reason in f.reasons:
            print("  " + reason.replace("\n", "\n  "), file=out)
        if f.variant is not None:
            code_diff = diff(item["original"], item["variants"][f.variant])
            print("  diff of the code, original vs variant:", file=out)
            print("    " + (code_diff or "(identical text)").replace("\n", "\n    "), file=out)
    print("", file=out)
    langs = sorted(set(report.sources) | set(report.missing))
    for lang in langs:
        if lang in report.missing:
            state = "skipped" if report.allow_missing else "FAILED"
            print(f"{lang}: {state}: tool missing: {report.missing[lang]}", file=out)
            continue
        failed = [f for f in report.failures if language(f.item) == lang]
        variants_failed = sum(1 for f in failed if f.variant is not None)
        originals_failed = sum(1 for f in failed if f.variant is None)
        if not failed:
            state = "all equivalent"
        else:
            parts = [f"{variants_failed} NOT equivalent"] if variants_failed else []
            parts += [f"{originals_failed} original(s) cannot be checked"] if originals_failed else []
            state = ", ".join(parts)
        notes = "".join(f"; {n} for {c} of them" for n, c in sorted(report.notes.get(lang, {}).items())
                        if not n.startswith("machine code differs"))
        print(f"{lang}: {report.sources[lang]} sources, {report.variants[lang]} variants, {state}{notes}", file=out)
    for s in report.skipped:
        print(f"skipped: {s}", file=out)
    # Variants of an original that cannot be checked count as failed: nothing was proven about them.
    failed = sum(1 if f.variant is not None else max(1, len(f.item.get("variants", []))) for f in report.failures)
    print(f"equivalence: {sum(report.variants.values()) - failed} passed, {failed} failed", file=out)


def self_test(allow_missing: bool, jobs: int) -> bool:
    """Good fixtures must pass; in bad fixtures every variant must fail (for the reason named in the item's
    "expect" list, when given) and an original marked "expect_invalid" must be refused."""
    passed, failed = 0, 0

    def result(ok: bool, what: str) -> None:
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print(("ok    " if ok else "FAIL  ") + what)

    for kind in ("good", "bad"):
        for path in sorted(glob.glob(os.path.join(FIXTURES, kind, "*.json"))):
            name = os.path.relpath(path, FIXTURES)
            with open(path, encoding="utf-8") as f:
                document = json.load(f)
            report, verdicts = check_document(document, allow_missing=allow_missing, jobs=jobs)
            if report.missing and allow_missing:
                print(f"skip  {name}: tool missing: {'; '.join(report.missing.values())}")
                continue
            if kind == "good":
                buffer = io.StringIO()
                print_report(report, buffer)
                detail = "" if report.ok else "\n" + buffer.getvalue()
                result(report.ok, f"{name}: every variant equivalent{detail}")
                continue
            for item, item_verdicts in zip(document["items"], verdicts):
                where = f"{name}: {item['source']}"
                if "expect_invalid" in item:
                    refused = [f for f in report.failures if f.item is item and f.variant is None]
                    reason = refused[0].reasons[0] if refused else ""
                    result(bool(refused) and item["expect_invalid"] in reason,
                           f"{where} original refused: {_first_line(reason) or 'NOT refused'}")
                    continue
                if item_verdicts is None:
                    reasons = [f.reasons for f in report.failures if f.item is item]
                    result(False, f"{where}: original could not be checked: {reasons}")
                    continue
                expected = item.get("expect", [None] * len(item_verdicts))
                for index, (verdict, expect) in enumerate(zip(item_verdicts, expected)):
                    text = "\n".join(verdict.reasons)
                    caught = not verdict.equivalent and (expect is None or expect in text)
                    shown = _first_line(text) if verdict.reasons else "NOT caught: judged equivalent"
                    if not verdict.equivalent and not caught:
                        shown = f"caught for another reason than {expect!r}: {_first_line(text)}"
                    why = item.get("why", [])
                    label = f" ({why[index]})" if index < len(why) else ""
                    result(caught, f"{where} variant {index}{label}: {shown}")
    for allow in (False, True):
        report = _with_missing_tool(allow)
        expected = "skipped" if allow else "failed"
        ok = report.ok == allow and bool(report.skipped if allow else report.failures)
        result(ok, f"a missing tool is {expected} {'with' if allow else 'without'} --allow-missing")
    print(f"self-test: {passed} passed, {failed} failed")
    return failed == 0


class _ToolNotInstalled:
    def tools(self) -> None:
        raise MissingTool("not on PATH: forewarn-no-such-tool")


def _with_missing_tool(allow_missing: bool) -> Report:
    """A check whose tool is missing must fail, or be listed as skipped with --allow-missing; never pass."""
    saved = CHECKERS["c"]
    CHECKERS["c"] = _ToolNotInstalled
    try:
        document = {"items": [{"source": "x.c", "block": 0, "lang": "c", "original": "int main(void){return 0;}",
                               "points": 0, "variants": ["int main(void){return 1;}"]}]}
        return check_document(document, allow_missing=allow_missing, jobs=1)[0]
    finally:
        CHECKERS["c"] = saved


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0][:DIFF_LINES * 2] if lines else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="?", help="the variants JSON file, or - for standard input")
    parser.add_argument("--self-test", action="store_true", help="check the fixtures instead")
    parser.add_argument("--allow-missing", action="store_true",
                        help="a missing tool skips its language instead of failing")
    parser.add_argument("--jobs", type=int, default=2, help="sources checked in parallel (default 2)")
    args = parser.parse_args(argv)
    if args.self_test:
        return 0 if self_test(args.allow_missing, args.jobs) else 1
    if not args.variants:
        parser.error("give a variants JSON file (or -), or --self-test")
    with (sys.stdin if args.variants == "-" else open(args.variants, encoding="utf-8")) as f:
        document = json.load(f)
    report, _ = check_document(document, allow_missing=args.allow_missing, jobs=args.jobs)
    print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
