"""Suricata rules: every rule of the variant must mean what the same rule of the original means.

Why the comparison below is sound (Suricata rule format: https://docs.suricata.io/en/latest/rules/intro.html):

- A rule is an action, a header (protocol, source, source ports, direction, destination, destination ports) and
  options `name:value;` in parentheses. The header and action are compared field by field, as text.
- Options split into two kinds. Payload keywords are positional: `content` and `pcre` match in the buffer selected
  by the sticky buffer before them (`http.uri; content:...`;
  https://docs.suricata.io/en/latest/rules/http-keywords.html), content modifiers (`nocase`, `depth`, `offset`,
  `distance`, `within`, `fast_pattern`, `startswith`, `endswith`, ...) apply to the content before them, and
  `distance`/`within` are relative to the previous match
  (https://docs.suricata.io/en/latest/rules/payload-keywords.html). So every such keyword — and, to be safe, every
  keyword not listed below as order-free — must appear in the same relative order with the same value.
- The other keywords set properties of the whole rule, whatever their position: meta keywords (`msg`, `sid`,
  `rev`, `gid`, `classtype`, `priority`, `reference`, `metadata`, `target`;
  https://docs.suricata.io/en/latest/rules/meta.html), `flow` and `flowbits`
  (https://docs.suricata.io/en/latest/rules/flow-keywords.html), `threshold` and `detection_filter`
  (https://docs.suricata.io/en/latest/rules/thresholding.html). They are compared as a multiset of (name, value):
  `metadata` as the set of its comma-separated entries, `flow` as the set of its comma-separated arguments (both
  are lists of independent settings).
- Values are compared by meaning where the meaning is certain: `content` as its bytes (`|3a|` and `:` are the same
  byte, escapes `\\;` `\\"` `\\\\` `\\:` undone) plus its negation; `pcre` by its flags (as a set) and its regex,
  equal as text or with an identical parse tree (see `_regex_tree`); `sid`, `rev`, `gid`, `priority` as base-10
  numbers (Suricata parses them with strtoul base 10, so `09026101` is `9026101`); comma-separated arguments with
  the white space around the commas removed. Anything else must be equal as text.
- The rules of a block are paired by sid when every rule has a distinct one (rule order in a file does not change
  what Suricata loads), otherwise by position.

A rule must parse with idstools, and suricataparser (an independent parser) must read the same options from it.
A value that cannot be what its keyword takes is refused as unparseable: Suricata ends an option at the first
unescaped `;`, so `pcre:"/;x/"` is the option `pcre:"/` (a broken regex) followed by garbage — the rules docs say
`;` and `"` must be escaped inside values.
"""

from __future__ import annotations

import re
import re._constants as sre_c
import re._parser as sre_parse

from .common import Invalid, MissingTool, Verdict, diff

ORDER_FREE = {
    "msg", "sid", "rev", "gid", "classtype", "priority", "reference", "metadata", "target",
    "flow", "flowbits", "threshold", "detection_filter",
}
SET_VALUED = {"metadata", "flow"}
DECIMAL = {"sid", "rev", "gid", "priority"}
QUOTED = {"msg", "content", "uricontent", "pcre"}
CONTENT_ESCAPES = {"\\", '"', ";", ":"}
KEYWORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
QUOTED_VALUE = re.compile(r'!?\s*"(?:[^"\\]|\\.)*"\Z', re.S)
PCRE_VALUE = re.compile(r'(!?)\s*"/(.*)/([A-Za-z]*)"\Z', re.S)


class SuricataChecker:
    name = "suricata"

    def tools(self) -> None:
        global idstools_rule, suricataparser
        try:
            from idstools import rule as idstools_rule
            import suricataparser
        except ImportError as e:
            raise MissingTool(f"{e.name} (pip install -r requirements.txt)") from None

    def prepare(self, item: dict) -> list[dict]:
        try:
            return parse_block(item["original"])
        except ValueError as e:
            raise Invalid(f"original: {e}") from None

    def check(self, original: list[dict], variant: str) -> Verdict:
        try:
            rules = parse_block(variant)
        except ValueError as e:
            return Verdict([f"variant: {e}"])
        if len(rules) != len(original):
            return Verdict([f"the original has {len(original)} rules, the variant {len(rules)}"])
        reasons = []
        for a, b in pair_rules(original, rules):
            if a["meaning"] != b["meaning"]:
                reasons.append(f"rule sid {a['sid']} differs in meaning:\n{diff(a['shown'], b['shown'])}")
        return Verdict(reasons)

    def close(self) -> None:
        pass


def parse_block(text: str) -> list[dict]:
    """The canonical form of each rule of a block; ValueError names the first line that is not a valid rule."""
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        parsed = idstools_rule.parse(line)
        if parsed is None:
            if line.startswith("#"):
                continue  # a comment (a commented-out rule parses, as a disabled rule)
            raise ValueError(f"line {number} is not a rule idstools can parse: {line[:100]}")
        try:
            rules.append(canonical(parsed, line))
        except ValueError as e:
            raise ValueError(f"line {number}: {e}") from None
    return rules


def canonical(parsed, line: str) -> dict:
    """{"meaning": what is compared, "shown": the same as text lines for a diff, "sid": for pairing}."""
    options = [(o["name"], o["value"]) for o in parsed["options"]]
    _cross_check(options, line)
    payload, other = [], []
    for name, value in options:
        _validate(name, value)
        option = (_option(name, value), _show(name, value))
        (other if name in ORDER_FREE else payload).append(option)
    other.sort(key=lambda o: o[1])
    header = (parsed["proto"], parsed["source_addr"], parsed["source_port"], parsed["direction"],
              parsed["dest_addr"], parsed["dest_port"])
    shown = [f"enabled: {parsed['enabled']}", f"action: {parsed['action']}", "header: " + " ".join(header),
             "positional options, in order:", *("  " + o[1] for o in payload),
             "order-free options:", *("  " + o[1] for o in other)]
    return {
        "sid": parsed["sid"],
        "meaning": (parsed["enabled"], parsed["action"], header, [o[0] for o in payload],
                    sorted((o[0] for o in other), key=repr)),
        "shown": "\n".join(shown),
    }


def _cross_check(options: list[tuple[str, str | None]], line: str) -> None:
    """suricataparser must read the same options (a second, independent reading of the same text)."""
    second = suricataparser.parse_rule(line)
    if second is None:
        raise ValueError("suricataparser cannot parse it")
    theirs = [(o.name, ", ".join(o.value.data) if o.name == "metadata" else o.value) for o in second.options]
    ours = [(n, ", ".join(_split(v)) if n == "metadata" else v) for n, v in options]
    if ours != theirs:
        raise ValueError(f"idstools and suricataparser read different options:\n{diff(repr(ours), repr(theirs))}")


def _validate(name: str, value: str | None) -> None:
    if not KEYWORD.match(name):
        raise ValueError(f"{name[:60]!r} is not a keyword (an unescaped ';' inside a value ends the option there)")
    if name in QUOTED and (value is None or not QUOTED_VALUE.match(value.strip())):
        raise ValueError(f"{name}:{value} is not one quoted string (an unescaped ';' or '\"' inside it?)")
    if name == "pcre" and not PCRE_VALUE.match(value.strip()):
        raise ValueError(f"pcre:{value} is not \"/regex/flags\"")


def _split(value: str | None) -> list[str]:
    return [" ".join(part.split()) for part in (value or "").split(",") if part.strip()]


def _option(name: str, value: str | None) -> tuple:
    if value is None:
        return (name,)
    value = value.strip()
    if name in ("content", "uricontent"):
        negated, data = _content_bytes(value)
        return (name, negated, data)
    if name == "pcre":
        return ("pcre", *_pcre(value))
    if name in SET_VALUED:
        return (name, frozenset(_split(value)))
    if name in DECIMAL and re.fullmatch(r"\d+", value):
        return (name, int(value, 10))
    if name in QUOTED:
        return (name, value)
    return (name, ",".join(_split(value)))


def _content_bytes(value: str) -> tuple[bool, bytes]:
    negated = value.startswith("!")
    inner = value.lstrip("!").strip()[1:-1]
    out, i, hex_mode = bytearray(), 0, False
    while i < len(inner):
        c = inner[i]
        if c == "|":
            hex_mode, i = not hex_mode, i + 1
        elif hex_mode:
            j = inner.find("|", i)
            if j < 0:
                break
            digits = "".join(inner[i:j].split())
            if len(digits) % 2 or not re.fullmatch(r"[0-9A-Fa-f]*", digits):
                raise ValueError(f"content:{value} has a malformed |hex| part")
            out += bytes.fromhex(digits)
            i = j
        elif c == "\\":
            if i + 1 >= len(inner) or inner[i + 1] not in CONTENT_ESCAPES:
                raise ValueError(f"content:{value} has an escape Suricata does not accept")
            out += inner[i + 1].encode()
            i += 2
        else:
            out += c.encode()
            i += 1
    if hex_mode:
        raise ValueError(f"content:{value} has an unclosed |hex| part")
    return negated, bytes(out)


def _pcre(value: str) -> tuple:
    negated, body, flags = PCRE_VALUE.match(value).groups()
    return (bool(negated), frozenset(flags), _regex_tree(body, flags))


# Character classes under PCRE without UCP (Suricata's default), over bytes.
_DIGIT = frozenset(range(0x30, 0x3A))
_SPACE = frozenset(b" \t\n\r\f\v")
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_ALL = frozenset(range(256))
_CATEGORIES = {
    sre_c.CATEGORY_DIGIT: _DIGIT, sre_c.CATEGORY_NOT_DIGIT: _ALL - _DIGIT,
    sre_c.CATEGORY_SPACE: _SPACE, sre_c.CATEGORY_NOT_SPACE: _ALL - _SPACE,
    sre_c.CATEGORY_WORD: _WORD, sre_c.CATEGORY_NOT_WORD: _ALL - _WORD,
}


def _regex_tree(body: str, flags: str) -> tuple:
    """The regex as a parse tree in which every character, escape and class is the set of bytes it matches, so that
    `\\d`, `[0-9]` and `[0123456789]`, or `\\x3a` and `:`, are the same node. Two regexes with equal trees match the
    same strings. Python's parser reads PCRE's syntax for everything it accepts except `{,n}` (a quantifier in
    Python, literal text in PCRE); a regex with `{,` or one Python cannot parse is compared as text."""
    if "{," in body:
        return ("text", body)
    py_flags = sum(f for c, f in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)) if c in flags)
    try:
        parsed = sre_parse.parse(body, py_flags | re.ASCII)
    except (re.error, OverflowError, RecursionError):
        return ("text", body)
    try:
        return ("tree", _tree(parsed), tuple(sorted(parsed.state.groupdict.items())))
    except _Unsupported:
        return ("text", body)


class _Unsupported(Exception):
    pass


def _tree(subpattern) -> tuple:
    return tuple(_node(op, av) for op, av in subpattern)


def _node(op, av) -> tuple:
    if op is sre_c.LITERAL:
        return ("set", frozenset({av}))
    if op is sre_c.NOT_LITERAL:
        return ("set", _ALL - {av})
    if op is sre_c.IN:
        return ("set", _class(av))
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
        low, high, sub = av
        return (str(op), low, high, _tree(sub))
    if op is sre_c.SUBPATTERN:
        group, add_flags, del_flags, sub = av
        return ("group", group, add_flags, del_flags, _tree(sub))
    if op is sre_c.BRANCH:
        return ("branch", tuple(_tree(b) for b in av[1]))
    if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
        direction, sub = av
        return (str(op), direction, _tree(sub))
    if op is sre_c.ATOMIC_GROUP:
        return ("atomic", _tree(av))
    if op in (sre_c.AT, sre_c.GROUPREF):
        return (str(op), str(av))
    if op is sre_c.ANY:
        return ("any",)
    raise _Unsupported(str(op))


def _class(items) -> frozenset:
    members: set[int] = set()
    negate = False
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            members.add(av)
        elif op is sre_c.RANGE:
            members |= set(range(av[0], av[1] + 1))
        elif op is sre_c.CATEGORY and av in _CATEGORIES:
            members |= _CATEGORIES[av]
        else:
            raise _Unsupported(str(op))
    return frozenset(_ALL - members if negate else members)


def pair_rules(original: list[dict], variant: list[dict]) -> list[tuple[dict, dict]]:
    sids_a, sids_b = [r["sid"] for r in original], [r["sid"] for r in variant]
    unique = None not in sids_a and len(set(sids_a)) == len(sids_a)
    if unique and set(sids_a) == set(sids_b) and len(set(sids_b)) == len(sids_b):
        by_sid = {r["sid"]: r for r in variant}
        return [(r, by_sid[r["sid"]]) for r in original]
    return list(zip(original, variant))


def _show(name: str, value: str | None) -> str:
    """An option as text for diffs: contents as their bytes, sets sorted, everything else as written."""
    if value is None:
        return name
    value = value.strip()
    if name in ("content", "uricontent"):
        negated, data = _content_bytes(value)
        return f"{name} {'!' if negated else ''}{data!r}"
    if name in SET_VALUED:
        return f"{name} {{{', '.join(sorted(set(_split(value))))}}}"
    return f"{name} {value}"
