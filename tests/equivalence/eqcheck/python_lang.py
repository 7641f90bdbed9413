"""Python PoCs: both parse and compile; then both run, with the same arguments, against the same local harness
(eqcheck.harness) in every scenario, and with no server listening; exit status, stdout, stderr and every byte
sent over each connection must be identical.

Each script runs as `python3 -I -c WRAPPER script ARGS...`. The wrapper makes `time.sleep` a no-op (the PoCs wait
for a service to restart) that records how long it was asked to sleep, records every socket timeout set (so a
changed sleep or timeout is seen, while `10`, `10.0` and `0xA` are the same), refuses any connection or name lookup
that is not loopback (these are probes for real products: nothing may leave the machine), and runs the script with
`runpy.run_path(..., run_name="__main__")`.
Both scripts are written to the same path, so paths in tracebacks and messages are the same and nothing needs
normalising. PYTHONHASHSEED is fixed for both. The original is run twice per scenario: a difference between its
own two runs is reported as nondeterminism, never papered over.
"""

from __future__ import annotations

import ast
import contextlib
import os
import shutil
import sys
import tempfile
import warnings

from .common import Invalid, Verdict, base_env, compare_fields, run, usage_argv
from .harness import Harness

WRAPPER = r"""
import os, runpy, socket, sys, time

_trace = open(os.environ["FOREWARN_EQ_TRACE"], "w")

def _log(what, value):
    try:
        value = None if value is None else float(value)
    except (TypeError, ValueError):
        pass
    _trace.write("%s %r\n" % (what, value))
    _trace.flush()

def _settimeout(settimeout):
    def traced(self, value):
        _log("socket timeout", value)
        return settimeout(self, value)
    return traced

time.sleep = lambda seconds: _log("time.sleep", seconds)
socket.socket.settimeout = _settimeout(socket.socket.settimeout)

def _loopback(host):
    host = str(host).strip("[]")
    return host in ("localhost", "::1", "") or host.startswith("127.")

def _guard_connect(connect):
    def guarded(self, address, *rest):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise PermissionError("equivalence harness: refusing to connect to %r (loopback only)" % (address[0],))
        return connect(self, address, *rest)
    return guarded

def _guard_lookup(getaddrinfo):
    def guarded(host, *rest, **kwargs):
        if host is not None and not _loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, "equivalence harness: no lookup of %r (loopback only)" % (host,))
        return getaddrinfo(host, *rest, **kwargs)
    return guarded

socket.socket.connect = _guard_connect(socket.socket.connect)
socket.socket.connect_ex = _guard_connect(socket.socket.connect_ex)
socket.getaddrinfo = _guard_lookup(socket.getaddrinfo)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

RUN_TIMEOUT = 60.0
MAX_SAYS = 4  # literals the harness answers with, one scenario each


class Prepared:
    def __init__(self, item: dict, workdir: str, harness: Harness, argvs: list[list[str]],
                 scenarios: list[str], observation: dict[str, str]) -> None:
        self.item, self.workdir, self.harness = item, workdir, harness
        self.argvs, self.scenarios, self.observation = argvs, scenarios, observation


class PythonChecker:
    name = "python"

    def __init__(self) -> None:
        self._prepared: list[Prepared] = []

    def tools(self) -> None:
        pass  # the interpreter running this checker runs the scripts; openssl is checked by the harness

    def prepare(self, item: dict) -> Prepared:
        original = item["original"]
        tree = _parse(original, "original")
        workdir = tempfile.mkdtemp(prefix="forewarn-eq-py-")
        harness = Harness(_protocol(tree), smtp_implicit_tls="SMTP_SSL" in original)
        argvs = usage_argv(original, "127.0.0.1", str(harness.port))
        choices = {a for argv in argvs for a in argv}  # `scheme == "https"` compares an argument, not an answer
        says = [f"says:{s}" for s in _answers_looked_for(tree) if s not in choices]
        scenarios = ["ok", "echo", "error", "drop", *says, "refused"]
        prepared = Prepared(item, workdir, harness, argvs, scenarios, {})
        self._prepared.append(prepared)
        first, second = self._observe(prepared, original), self._observe(prepared, original)
        if first != second:
            raise Invalid("the original is not deterministic: two runs of it differ in the same harness\n"
                          + "\n".join(compare_fields(first, second)))
        prepared.observation = first
        return prepared

    def check(self, prepared: Prepared, variant: str) -> Verdict:
        try:
            _parse(variant, "variant")
        except Invalid as e:
            return Verdict([str(e)])
        return Verdict(compare_fields(prepared.observation, self._observe(prepared, variant)))

    def close(self) -> None:
        for p in self._prepared:
            p.harness.close()
            shutil.rmtree(p.workdir, ignore_errors=True)

    def _observe(self, prepared: Prepared, source: str) -> dict[str, str]:
        script = os.path.join(prepared.workdir, "poc.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(source)
        trace = os.path.join(prepared.workdir, "trace.txt")
        env = base_env(prepared.workdir) | {"PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
                                            "FOREWARN_EQ_TRACE": trace}
        harness = prepared.harness
        fields: dict[str, str] = {}
        for argv in prepared.argvs:
            for scenario in prepared.scenarios:
                if scenario == "refused":
                    args = [str(harness.refused_port) if a == str(harness.port) else a for a in argv]
                else:
                    args = argv
                label = f"[args {' '.join(args)}; scenario {scenario}] "
                harness.scenario = scenario
                with harness.session() as connections:
                    result = run([sys.executable, "-I", "-c", WRAPPER, script, *args], cwd=prepared.workdir,
                                 env=env, timeout=RUN_TIMEOUT)
                fields |= result.fields(label)
                fields[label + "sleeps and socket timeouts"] = _read(trace)
                fields[label + "network"] = "\n".join(c.render(i + 1) for i, c in enumerate(connections)) or "-"
        return fields


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return "(no trace: the wrapper did not start)"
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _parse(source: str, which: str) -> ast.Module:
    """ast.parse and compile, or Invalid."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source)
            compile(source, "poc.py", "exec")
    except (SyntaxError, ValueError) as e:
        raise Invalid(f"{which} does not compile: {e}") from None
    return tree


def _imports(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _protocol(tree: ast.Module) -> str:
    """The protocol the harness speaks to this script: SMTP for smtplib users, HTTP otherwise."""
    return "smtp" if any(n.split(".")[0] == "smtplib" for n in _imports(tree)) else "http"


def _answers_looked_for(tree: ast.Module) -> list[str]:
    """String literals the script compares an answer with (`"X" in body`, `body.startswith("X")`, `== "X"`):
    answering with each exercises the branch a vulnerable server would take."""
    found: list[str] = []

    def add(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
            if node.value not in found:
                found.append(node.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for operand in [node.left, *node.comparators]:
                add(operand)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("startswith", "endswith", "find", "index", "count")):
            for arg in node.args:
                add(arg)
    return found[:MAX_SAYS]
