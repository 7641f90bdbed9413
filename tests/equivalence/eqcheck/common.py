"""What every language check shares: verdicts, tools, running programs, argv from a usage line, diffs."""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
import shutil
import subprocess

# Longest diff printed for one differing field; the rest is counted, not shown.
DIFF_LINES = 80


class MissingTool(Exception):
    """A program or package a check needs is not installed: a failure unless --allow-missing."""


class Invalid(Exception):
    """The original itself cannot serve as the reference (does not parse, is not deterministic, ...)."""


@dataclasses.dataclass
class Verdict:
    """The outcome for one variant: equivalent when `reasons` is empty. `notes` are informational."""

    reasons: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def equivalent(self) -> bool:
        return not self.reasons


def require(*programs: str) -> None:
    """Raise MissingTool unless every program is on PATH."""
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        raise MissingTool("not on PATH: " + ", ".join(missing))


def diff(a: str, b: str, a_name: str = "original", b_name: str = "variant") -> str:
    """A unified diff of two texts, cut at DIFF_LINES lines."""
    lines = list(
        difflib.unified_diff(a.splitlines(), b.splitlines(), a_name, b_name, lineterm="", n=2)
    )
    if not lines and a != b:
        lines = [f"--- {a_name}", f"+++ {b_name}", f"-{a!r}", f"+{b!r}"]  # differs only in line ends
    if len(lines) > DIFF_LINES:
        lines = lines[:DIFF_LINES] + [f"... ({len(lines) - DIFF_LINES} more diff lines)"]
    return "\n".join(lines)


def compare_fields(original: dict[str, str], variant: dict[str, str], where: str = "") -> list[str]:
    """One reason, with a diff, for every field whose text differs between two observations."""
    reasons = []
    for key in list(original) + [k for k in variant if k not in original]:
        a, b = original.get(key, "<absent>"), variant.get(key, "<absent>")
        if a != b:
            reasons.append(f"{where}{key} differs:\n{diff(a, b)}")
    return reasons


def text(data: bytes) -> str:
    """Bytes shown as text for a diff: UTF-8 where it is, escapes where it is not."""
    return data.decode("utf-8", "backslashreplace")


@dataclasses.dataclass
class Run:
    status: int | str  # exit status, or "timeout"
    stdout: bytes
    stderr: bytes

    def fields(self, prefix: str = "") -> dict[str, str]:
        return {
            f"{prefix}exit status": str(self.status),
            f"{prefix}stdout": text(self.stdout),
            f"{prefix}stderr": text(self.stderr),
        }


def run(cmd: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
        timeout: float = 30.0) -> Run:
    """Run a program with no standard input; a run past `timeout` seconds is killed and reported as such."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, check=False)
        return Run(p.returncode, p.stdout, p.stderr)
    except subprocess.TimeoutExpired as e:
        return Run("timeout", e.stdout or b"", e.stderr or b"")


def base_env(home: str) -> dict[str, str]:
    """The environment every program under test gets: PATH kept, nothing else inherited."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
    }


@functools.cache
def no_network_prefix() -> tuple[str, ...]:
    """`unshare --net` where it works (root or user namespaces): programs that need no network get none."""
    for prefix in (("unshare", "--net"), ("unshare", "--net", "--map-root-user")):
        if shutil.which(prefix[0]) and run([*prefix, "true"], timeout=10).status == 0:
            return prefix
    return ()


# ---------------------------------------------------------------------------------------------------------------
# Arguments from the usage line a PoC documents, e.g. "Usage: probe.py TOKEN [host] [port] [http|https]".

_USAGE = re.compile(r"usage:\s*\S+[ \t]*([^\n]*)", re.IGNORECASE)


def usage_argv(source: str, host: str, port: str) -> list[list[str]]:
    """The argument lists to run a PoC with, from its usage line (host and port given explicitly, so that it never
    falls back to a default port that some local service might own). One list with every required argument and
    the host and port; plus, for an optional choice such as [http|https], one list per choice."""
    m = _USAGE.search(source)
    args = re.split(r'"""|\'\'\'|\*/|-->', m.group(1))[0] if m else "[host] [port]"
    tokens = re.findall(r"\[[^\]]*\]|\S+", args)
    base: list[str] = []
    choices: list[str] = []
    for token in tokens:
        optional = token.startswith("[")
        word = token.strip("[]").strip()
        lower = word.lower()
        if lower in ("host", "target", "ip", "addr", "address"):
            base.append(host)
        elif lower == "port":
            base.append(port)
        elif optional and "|" in word:
            choices = [c.strip() for c in word.split("|") if c.strip()]
            break  # positional: nothing after an omitted optional argument can be given
        elif optional:
            break
        elif re.fullmatch(r"<[^>]+>|[A-Z][A-Z0-9_]*", word):
            base.append("forewarn-test-" + re.sub(r"[^a-z0-9]+", "-", lower.strip("<>")))
        else:
            base.append(word)
    return [base] + [base + [c] for c in choices]
