"""Sigma rules: both parse with pySigma (SigmaCollection.from_yaml, errors raised); both convert to the identical
query with two backends (pySigma's own text test backend and the Splunk backend); and the parsed rules have equal
title, id, level, status, logsource, description, author, date, modified, tags (as a set), references and
false positives (as sets). A query is what a SIEM runs, so an identical query from two independent backends is
identical detection; the rest is the metadata analysts and tooling read.
"""

from __future__ import annotations

from .common import Invalid, MissingTool, Verdict, compare_fields


class SigmaChecker:
    name = "sigma"

    def tools(self) -> None:
        global SigmaCollection, backends
        try:
            from sigma.backends.splunk import SplunkBackend
            from sigma.backends.test import TextQueryTestBackend
            from sigma.collection import SigmaCollection
        except ImportError as e:
            raise MissingTool(f"{e.name} (pip install -r requirements.txt)") from None
        backends = {"text test backend": TextQueryTestBackend, "splunk backend": SplunkBackend}

    def prepare(self, item: dict) -> dict[str, str]:
        try:
            return observe(item["original"])
        except Exception as e:  # pySigma raises many SigmaError subclasses, and YAML errors
            raise Invalid(f"original: {type(e).__name__}: {e}") from None

    def check(self, original: dict[str, str], variant: str) -> Verdict:
        try:
            observation = observe(variant)
        except Exception as e:
            return Verdict([f"variant does not parse or convert: {type(e).__name__}: {e}"])
        return Verdict(compare_fields(original, observation))

    def close(self) -> None:
        pass


def observe(source: str) -> dict[str, str]:
    collection = SigmaCollection.from_yaml(source)
    if not collection.rules:
        raise ValueError("no Sigma rule in the block")
    fields: dict[str, str] = {}
    for n, rule in enumerate(collection.rules):
        prefix = f"rule {n + 1} "
        errors = getattr(rule, "errors", [])
        if errors:
            raise ValueError("; ".join(str(e) for e in errors))
        fields |= {
            prefix + "title": str(rule.title),
            prefix + "id": str(rule.id),
            prefix + "level": str(rule.level),
            prefix + "status": str(rule.status),
            prefix + "logsource": repr(rule.logsource),
            prefix + "description": str(rule.description),
            prefix + "author": str(rule.author),
            prefix + "date": str(rule.date),
            prefix + "modified": str(getattr(rule, "modified", None)),
            prefix + "tags": "\n".join(sorted(str(t) for t in rule.tags)),
            prefix + "references": "\n".join(sorted(rule.references)),
            prefix + "falsepositives": "\n".join(sorted(str(f) for f in rule.falsepositives)),
        }
    for name, backend in backends.items():
        fields[f"query ({name})"] = "\n".join(backend().convert(collection))
    return fields
