"""Shell, C and JavaScript PoCs: the variant must be accepted by the language's own checker just as the original
is, and running it must give the same exit status, stdout, stderr and files left in its working directory.

Each program runs in a fresh directory that is also its HOME and TMPDIR, at the same path for the original and the
variant (so nothing needs normalising), with only PATH kept from the environment, with no standard input, and
without network (`unshare --net`, where the machine allows it): these PoCs are meant to run offline. It runs once
with the arguments its usage line documents and once with none.

C, in addition: `gcc -std=c11 -Wall -Wextra -fsyntax-only` must report no warning kind more often for the variant;
and, as a stronger check reported as a note, the `.text` and `.rodata*` sections of both `gcc -O2 -c` objects are
compared (`objdump -d --no-show-raw-insn`, `objdump -s`): literal forms, operand order of comparisons and include
order normally give identical machine code.
"""

from __future__ import annotations

import collections
import hashlib
import os
import re
import shutil
import tempfile

from .common import Invalid, Verdict, base_env, compare_fields, diff, no_network_prefix, require, run, text, \
    usage_argv

RUN_TIMEOUT = 30.0


class Prepared:
    def __init__(self, workdir: str, argvs: list[list[str]]) -> None:
        self.workdir, self.argvs = workdir, argvs
        self.observation: dict[str, str] = {}
        self.warnings: collections.Counter = collections.Counter()
        self.machine_code = ""


class ProgramChecker:
    """Common to the three: build (or check) the program, run it, compare what it did."""

    name = ""
    suffix = ""
    programs: tuple[str, ...] = ()

    def tools(self) -> None:
        require(*self.programs)

    def __init__(self) -> None:
        self._workdirs: list[str] = []

    def prepare(self, item: dict) -> Prepared:
        original = item["original"]
        argvs = usage_argv(original, "127.0.0.1", "8080")
        argvs = argvs + [[]] if [] not in argvs else argvs
        prepared = Prepared(tempfile.mkdtemp(prefix=f"forewarn-eq-{self.name}-"), argvs)
        self._workdirs.append(prepared.workdir)
        error = self.build(prepared, original, reference=True)
        if error:
            raise Invalid(f"original: {error}")
        prepared.observation = self.observe(prepared)
        again = self.observe(prepared)
        if again != prepared.observation:
            raise Invalid("the original is not deterministic: two runs of it differ\n"
                          + "\n".join(compare_fields(prepared.observation, again)))
        return prepared

    def check(self, prepared: Prepared, variant: str) -> Verdict:
        verdict = Verdict()
        error = self.build(prepared, variant, reference=False, verdict=verdict)
        if error:
            verdict.reasons.append(f"variant: {error}")
            return verdict
        verdict.reasons += compare_fields(prepared.observation, self.observe(prepared))
        return verdict

    def close(self) -> None:
        for workdir in self._workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    # -- per language ----------------------------------------------------------------------------------------

    def build(self, prepared: Prepared, source: str, reference: bool, verdict: Verdict | None = None) -> str | None:
        """Write (and check or compile) the program; an error message when that fails."""
        raise NotImplementedError

    def command(self, prepared: Prepared) -> list[str]:
        raise NotImplementedError

    # -- running ---------------------------------------------------------------------------------------------

    def source_path(self, prepared: Prepared) -> str:
        return os.path.join(prepared.workdir, "poc" + self.suffix)

    def observe(self, prepared: Prepared) -> dict[str, str]:
        fields: dict[str, str] = {}
        for argv in prepared.argvs:
            run_dir = os.path.join(prepared.workdir, "run")
            shutil.rmtree(run_dir, ignore_errors=True)
            os.makedirs(run_dir)
            result = run([*no_network_prefix(), *self.command(prepared), *argv], cwd=run_dir,
                         env=base_env(run_dir), timeout=RUN_TIMEOUT)
            label = f"[args {' '.join(argv) or '(none)'}] "
            fields |= result.fields(label)
            fields[label + "files left"] = files_left(run_dir)
        return fields


def files_left(directory: str) -> str:
    """Every file under `directory`: path, mode, size, SHA-256, and the content when it is short text."""
    lines = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            mode = oct(os.stat(path).st_mode & 0o7777)
            lines.append(f"{os.path.relpath(path, directory)} {mode} {len(data)} bytes "
                         f"sha256={hashlib.sha256(data).hexdigest()}")
            if len(data) <= 4096:
                lines += ["  | " + line for line in text(data).splitlines()]
    return "\n".join(lines) or "(none)"


class ShellChecker(ProgramChecker):
    name, suffix, programs = "shell", ".sh", ("bash",)

    def build(self, prepared, source, reference, verdict=None):
        path = self.source_path(prepared)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        result = run(["bash", "-n", path], timeout=RUN_TIMEOUT)
        return None if result.status == 0 else f"bash -n fails: {text(result.stderr).strip()}"

    def command(self, prepared):
        return ["bash", self.source_path(prepared)]


class JavaScriptChecker(ProgramChecker):
    name, suffix, programs = "javascript", ".js", ("node",)

    def build(self, prepared, source, reference, verdict=None):
        path = self.source_path(prepared)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        result = run(["node", "--check", path], timeout=RUN_TIMEOUT)
        return None if result.status == 0 else f"node --check fails: {text(result.stderr).strip()}"

    def command(self, prepared):
        return ["node", self.source_path(prepared)]


class CChecker(ProgramChecker):
    name, suffix, programs = "c", ".c", ("gcc", "objdump")

    def build(self, prepared, source, reference, verdict=None):
        path = self.source_path(prepared)
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        syntax = run(["gcc", "-std=c11", "-Wall", "-Wextra", "-fsyntax-only", path], timeout=RUN_TIMEOUT)
        if syntax.status != 0:
            return f"gcc -fsyntax-only fails:\n{text(syntax.stderr).strip()}"
        warnings = collections.Counter(re.findall(r"warning: .*\[(-W[^\]]+)\]", text(syntax.stderr)))
        binary = os.path.join(prepared.workdir, "poc")
        build = run(["gcc", "-std=c11", "-O2", "-o", binary, path, "-lm"], timeout=RUN_TIMEOUT)
        if build.status != 0:
            return f"gcc -O2 fails:\n{text(build.stderr).strip()}"
        code = self._machine_code(prepared, path)
        if reference:
            prepared.warnings, prepared.machine_code = warnings, code
            return None
        new = warnings - prepared.warnings
        if new:
            verdict.reasons.append("variant has new warnings: " + ", ".join(sorted(new.elements()))
                                   + "\n" + text(syntax.stderr).strip())
        if code == prepared.machine_code:
            verdict.notes.append("identical .text and .rodata at -O2")
        else:
            verdict.notes.append("machine code differs at -O2 (behaviour compared by running):\n"
                                 + diff(prepared.machine_code, code))
        return None

    def command(self, prepared):
        return [os.path.join(prepared.workdir, "poc")]

    def _machine_code(self, prepared: Prepared, path: str) -> str:
        obj = os.path.join(prepared.workdir, "poc.o")
        run(["gcc", "-std=c11", "-O2", "-c", "-o", obj, path], timeout=RUN_TIMEOUT)
        disassembly = run(["objdump", "-d", "--no-show-raw-insn", "-j", ".text", obj]).stdout
        headers = text(run(["objdump", "-h", obj]).stdout)
        rodata = sorted(set(re.findall(r"\s(\.rodata\S*)", headers)))
        dump = run(["objdump", "-s", *(a for s in rodata for a in ("-j", s)), obj]).stdout if rodata else b""
        return text(disassembly + dump)
