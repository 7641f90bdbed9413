"""YARA rules: both compile with libyara (yara-python); the variant has the same rules (names, tags, private and
global flags), the same meta key/value pairs (as a multiset) and the same number of strings per rule; and on
every test input the same rules match, with the same matches (offset and matched bytes of every string instance,
compared without the string identifiers, which a variant may rename consistently).

The test inputs are derived from the ORIGINAL's own strings (read with plyara): each text, hex and regex string
made into bytes it matches (with its ascii/wide/nocase/xor/base64 forms), alone, all together (each one first in
turn, so `$x at 0` is reached), all but one (so every `and` is exercised), repeated one less than, exactly and one
more than every number in the conditions (so `#x > 40` and `2 of (...)` are reached and just missed), padded to
just under and at every size in the conditions (`filesize < 5MB`); plus the empty input, random bytes, and every
file in tests/equivalence/yara-inputs/ (realistic samples for the demo rules).
"""

from __future__ import annotations

import base64
import os
import random
import re
import re._constants as sre_c
import re._parser as sre_parse

from .common import Invalid, MissingTool, Verdict, compare_fields

INPUTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "yara-inputs")
MAX_REPEAT_INPUT = 10_000  # repetitions of one sample
MAX_PADDED_SIZE = 64 << 20  # filesize thresholds above this are not padded to
SIZE_UNITS = {"": 1, "KB": 1 << 10, "MB": 1 << 20}


class YaraChecker:
    name = "yara"

    def tools(self) -> None:
        global yara, plyara
        try:
            import plyara
            import yara
        except ImportError as e:
            raise MissingTool(f"{e.name} (pip install -r requirements.txt)") from None

    def prepare(self, item: dict) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
        original = item["original"]
        try:
            rules = yara.compile(source=original)
        except yara.Error as e:
            raise Invalid(f"original does not compile: {e}") from None
        parsed = _plyara(original, "original")
        inputs = derive_inputs(parsed) + shipped_inputs()
        return observe(rules, parsed, inputs), inputs

    def check(self, prepared, variant: str) -> Verdict:
        observation, inputs = prepared
        try:
            rules = yara.compile(source=variant)
            parsed = _plyara(variant, "variant")
        except (yara.Error, Invalid) as e:
            return Verdict([f"variant does not compile: {e}"])
        return Verdict(compare_fields(observation, observe(rules, parsed, inputs)))

    def close(self) -> None:
        pass


def _plyara(source: str, which: str) -> list[dict]:
    try:
        return plyara.Plyara().parse_string(source)
    except Exception as e:  # plyara raises several exception types for syntax it does not read
        raise Invalid(f"{which}: plyara cannot read it: {e}") from None


def observe(rules, parsed: list[dict], inputs: list[tuple[str, bytes]]) -> dict[str, str]:
    """Everything compared, as text fields: the rules' structure, then what matches on each input."""
    fields = {}
    described = {}

    def describe(data: dict) -> int:
        described[data["rule"]] = data
        return yara.CALLBACK_CONTINUE

    rules.match(data=b"", callback=describe, which_callbacks=yara.CALLBACK_ALL, allow_duplicate_metadata=True)
    strings = {r["rule_name"]: len(r.get("strings", [])) for r in parsed}
    for rule in sorted(rules, key=lambda r: r.identifier):
        meta = sorted((k, repr(v)) for k, values in described.get(rule.identifier, {}).get("meta", {}).items()
                      for v in values)
        fields[f"rule {rule.identifier}"] = "\n".join([
            f"tags: {sorted(rule.tags)}", f"private: {rule.is_private}", f"global: {rule.is_global}",
            f"strings: {strings.get(rule.identifier, '?')}", *(f"meta {k} = {v}" for k, v in meta)])
    for name, data in inputs:
        matches = rules.match(data=data)
        fields[f"input {name}"] = "\n".join(_render_match(m) for m in sorted(matches, key=lambda m: m.rule)) or "-"
    return fields


def _render_match(match) -> str:
    per_string = sorted(
        ";".join(f"{i.offset}:{bytes(i.matched_data).hex()}" for i in s.instances) for s in match.strings)
    return f"{match.rule} matches: " + (" | ".join(per_string) or "(no strings)")


# -- test inputs --------------------------------------------------------------------------------------------------


def shipped_inputs() -> list[tuple[str, bytes]]:
    found = []
    for root, _dirs, files in os.walk(INPUTS_DIR):
        for f in sorted(files):
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                found.append((os.path.relpath(path, INPUTS_DIR), fh.read()))
    return sorted(found)


def derive_inputs(parsed: list[dict]) -> list[tuple[str, bytes]]:
    samples: dict[str, list[bytes]] = {}
    numbers: set[int] = set()
    sizes: set[int] = set()
    for rule in parsed:
        for s in rule.get("strings", []):
            key = f"{rule['rule_name']}:{s['name']}"
            samples[key] = [b for b in string_samples(s) if b]
        terms = rule.get("condition_terms", [])
        for i, term in enumerate(terms):
            m = re.fullmatch(r"(\d+)(KB|MB)?", term)
            if not m:
                continue
            value = int(m.group(1)) * SIZE_UNITS[m.group(2) or ""]
            if "filesize" in terms[max(0, i - 2):i + 3]:
                sizes.add(value)
            else:
                numbers.add(value)
    firsts = {k: v[0] for k, v in samples.items() if v}
    sep = b"\n"
    inputs: list[tuple[str, bytes]] = [("empty", b""), ("random-4096", random.Random(0).randbytes(4096))]
    for key, forms in samples.items():
        inputs += [(f"{key} form {i}", form) for i, form in enumerate(forms)]
    every = sep.join(form for forms in samples.values() for form in forms)
    inputs.append(("all forms", every))
    for key in firsts:
        inputs.append((f"all, {key} first", sep.join([firsts[key]] + [v for k, v in firsts.items() if k != key])))
        inputs.append((f"all but {key}", sep.join(form for k, forms in samples.items() if k != key for form in forms)))
    for key, first in firsts.items():
        for n in sorted(numbers):
            for count in (n - 1, n, n + 1):
                if 0 <= count <= MAX_REPEAT_INPUT:
                    rest = sep.join(v for k, v in firsts.items() if k != key)
                    inputs.append((f"all, {key} x{count}", rest + sep + sep.join([first] * count)))
    for size in sorted(sizes):
        if size <= MAX_PADDED_SIZE:
            for target in (size - 1, size):
                if target >= len(every):
                    inputs.append((f"all forms padded to {target} bytes", every + bytes(target - len(every))))
    return inputs


def string_samples(s: dict) -> list[bytes]:
    """Bytes that the YARA string `s` (a plyara string) matches, in each of its encodings."""
    modifiers = s.get("modifiers", [])
    if s["type"] == "byte":
        return hex_samples(s["value"])
    if s["type"] == "regex":
        texts = regex_samples(s["value"])
    else:
        texts = [text_string_bytes(s["value"])]
    if any(m == "nocase" for m in modifiers):
        texts += [t.swapcase() for t in texts]
    wide = any(m == "wide" for m in modifiers)
    forms = [t for t in texts] if (not wide or any(m == "ascii" for m in modifiers)) else []
    if wide:
        forms += [b"".join(bytes([c, 0]) for c in t) for t in texts]
    if any(m.startswith("xor") for m in modifiers):
        key = _xor_key(next(m for m in modifiers if m.startswith("xor")))
        forms += [bytes(c ^ key for c in t) for t in texts]
    if any(m.startswith("base64") for m in modifiers):
        forms += [base64.b64encode(t) for t in texts]
    return forms


def _xor_key(modifier: str) -> int:
    m = re.search(r"\((0x[0-9a-fA-F]+|\d+)", modifier)
    return int(m.group(1), 0) if m else 1


def text_string_bytes(value: str) -> bytes:
    """A YARA text string's bytes: escapes \\" \\\\ \\t \\n \\r \\xHH undone."""
    out, i = bytearray(), 0
    simple = {'"': 0x22, "\\": 0x5C, "t": 0x09, "n": 0x0A, "r": 0x0D}
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            c = value[i + 1]
            if c == "x":
                out.append(int(value[i + 2:i + 4], 16))
                i += 4
                continue
            out.append(simple.get(c, ord(c)))
            i += 2
        else:
            out += value[i].encode()
            i += 1
    return bytes(out)


def hex_samples(value: str) -> list[bytes]:
    """Two byte strings the hex string matches: wildcards and jumps filled with 0x00 and the first alternatives,
    then with 0x41 and the last alternatives."""
    body = value.strip().strip("{}")
    body = re.sub(r"//[^\n]*|/\*.*?\*/", " ", body, flags=re.S)
    return [_hex_fill(body, 0x00, first=True), _hex_fill(body, 0x41, first=False)]


def _hex_fill(body: str, fill: int, first: bool) -> bytes:
    def choose(m: re.Match) -> str:
        alternatives = m.group(1).split("|")
        return alternatives[0 if first else -1]

    while "(" in body:  # innermost alternatives first
        body = re.sub(r"\(([^()]*)\)", choose, body)
    out = bytearray()
    for token in re.findall(r"\[[^\]]*\]|~?[0-9A-Fa-f?]{2}", body):
        if token.startswith("["):
            low = token.strip("[]").split("-")[0].strip()
            out += bytes([fill]) * int(low or 0)
            continue
        negated, token = token.startswith("~"), token.lstrip("~")
        hi = int(token[0], 16) if token[0] != "?" else fill >> 4
        lo = int(token[1], 16) if token[1] != "?" else fill & 0xF
        byte = (hi << 4) | lo
        out.append(byte ^ 0xFF if negated else byte)
    return bytes(out)


def regex_samples(value: str) -> list[bytes]:
    """Strings the regex matches, generated from its parse tree (first choices, then last choices) and kept only
    when Python's re confirms the match."""
    m = re.fullmatch(r"/(.*)/([a-z]*)", value, re.S)
    if not m:
        return []
    body, flags = m.groups()
    py_flags = re.ASCII | (re.I if "i" in flags else 0) | (re.S if "s" in flags else 0)
    try:
        tree = sre_parse.parse(body, py_flags)
        pattern = re.compile(body.encode("latin-1"), py_flags & ~re.ASCII)
    except (re.error, UnicodeEncodeError):
        return []
    out = []
    for policy in ("first", "last"):
        try:
            sample = bytes(_generate(tree, policy))
        except _CannotGenerate:
            continue
        if pattern.search(sample) and sample not in out:
            out.append(sample)
    return out


class _CannotGenerate(Exception):
    pass


_PRINTABLE = [c for c in range(0x20, 0x7F)]
_CATEGORY_PICK = {
    sre_c.CATEGORY_DIGIT: (ord("0"), ord("9")), sre_c.CATEGORY_NOT_DIGIT: (ord("a"), ord("Z")),
    sre_c.CATEGORY_SPACE: (ord(" "), ord("\t")), sre_c.CATEGORY_NOT_SPACE: (ord("a"), ord("Z")),
    sre_c.CATEGORY_WORD: (ord("a"), ord("_")), sre_c.CATEGORY_NOT_WORD: (ord("-"), ord(" ")),
}


def _generate(subpattern, policy: str) -> bytearray:
    out = bytearray()
    for op, av in subpattern:
        if op is sre_c.LITERAL:
            out.append(av)
        elif op is sre_c.NOT_LITERAL:
            out.append(ord("x") if av != ord("x") else ord("y"))
        elif op is sre_c.ANY:
            out.append(ord("x"))
        elif op is sre_c.IN:
            out.append(_pick(av, policy))
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            low, high, sub = av
            count = low if policy == "first" else min(high, low + 2)
            for _ in range(max(count, 0)):
                out += _generate(sub, policy)
        elif op is sre_c.SUBPATTERN:
            out += _generate(av[3], policy)
        elif op is sre_c.ATOMIC_GROUP:
            out += _generate(av, policy)
        elif op is sre_c.BRANCH:
            branches = av[1]
            out += _generate(branches[0] if policy == "first" else branches[-1], policy)
        elif op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue  # anchors and lookarounds: the match is checked afterwards
        else:
            raise _CannotGenerate(str(op))
    return out


def _pick(items, policy: str) -> int:
    members: list[int] = []
    negate = False
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            members.append(av)
        elif op is sre_c.RANGE:
            members += [av[0], av[1]]
        elif op is sre_c.CATEGORY and av in _CATEGORY_PICK:
            members += list(_CATEGORY_PICK[av])
        else:
            raise _CannotGenerate(str(op))
    if negate:
        allowed = [c for c in _PRINTABLE if c not in members and not _in_class(items, c)]
        if not allowed:
            raise _CannotGenerate("empty class")
        return allowed[0] if policy == "first" else allowed[-1]
    return members[0] if policy == "first" else members[-1]


def _in_class(items, c: int) -> bool:
    for op, av in items:
        if op is sre_c.LITERAL and av == c:
            return True
        if op is sre_c.RANGE and av[0] <= c <= av[1]:
            return True
        if op is sre_c.CATEGORY:
            probe = re.compile(rf"[{_CATEGORY_ESCAPE[av]}]", re.ASCII)
            if probe.match(chr(c)):
                return True
    return False


_CATEGORY_ESCAPE = {
    sre_c.CATEGORY_DIGIT: r"\d", sre_c.CATEGORY_NOT_DIGIT: r"\D", sre_c.CATEGORY_SPACE: r"\s",
    sre_c.CATEGORY_NOT_SPACE: r"\S", sre_c.CATEGORY_WORD: r"\w", sre_c.CATEGORY_NOT_WORD: r"\W",
}
