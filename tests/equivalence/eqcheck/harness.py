"""A local stand-in for the services the demo PoCs probe, so that a PoC and its variant can be run and what they
send compared byte for byte.

One harness listens on 127.0.0.1 and speaks HTTP/1.1 or SMTP, in clear or over TLS (detected per connection: a
TLS ClientHello starts with 0x16; SMTP over implicit TLS is chosen by the caller, since an SMTP client waits for
the greeting and sends nothing first; STARTTLS is offered and honoured). The TLS certificate is a throwaway
self-signed one made with the `openssl` CLI. Every byte a client sends is recorded per connection, after TLS
decryption, together with the SNI and ALPN it asked for. Answers are deterministic and depend only on the
scenario the caller sets before a run:

- ``ok``: HTTP 200 with a small JSON body; SMTP accepts everything.
- ``echo``: HTTP 200 whose body is the request itself (exercises "is my marker in the answer" branches);
  for SMTP the message is rejected after DATA (554), which exercises the "rejected" branch instead.
- ``error``: HTTP 500; SMTP greets with 421 (service not available).
- ``drop``: the connection is closed without an answer (after the request is read, for HTTP).
- ``says:TEXT``: HTTP 200 whose body is TEXT (a literal the PoC looks for in an answer).

A scenario of "no server at all" is the caller's: it runs the PoC against `refused_port`, where nothing listens.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import re
import select
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time

from .common import MissingTool, require

READ_TIMEOUT = 10.0  # seconds a harness connection waits for the client before giving up on it
HOSTNAME = b"harness.example"
OK_BODY = json.dumps({"status": "ok", "result": {"version": "1.0.0"}}).encode() + b"\n"


@functools.cache
def certificate() -> tuple[str, str]:
    """A throwaway self-signed certificate and key (PEM files), made once per process with `openssl`."""
    try:
        require("openssl")
    except MissingTool as e:
        raise MissingTool(f"openssl, for the TLS harness ({e})") from None
    directory = tempfile.mkdtemp(prefix="forewarn-eq-tls-")
    atexit.register(shutil.rmtree, directory, True)
    cert, key = f"{directory}/cert.pem", f"{directory}/key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True)
    return cert, key


class Connection:
    """What one client connection sent."""

    def __init__(self) -> None:
        self.tls = False
        self.sni: str | None = None
        self.alpn: str | None = None
        self.received = bytearray()
        self.events: list[str] = []  # e.g. "TLS handshake failed"

    def render(self, index: int) -> str:
        mode = f"TLS, sni={self.sni!r}, alpn={self.alpn!r}" if self.tls else "clear"
        lines = [f"connection {index} ({mode}): {len(self.received)} bytes"]
        lines += [f"  [{e}]" for e in self.events]
        lines += ["  " + escape(line) for line in bytes(self.received).splitlines(keepends=True)]
        return "\n".join(lines)


def escape(data: bytes) -> str:
    """Printable ASCII as is, everything else as \\xHH (\\r and \\n spelled out), so diffs show every byte."""
    out = []
    for b in data:
        if b == 0x0D:
            out.append("\\r")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


class Stream:
    """A client connection read through a buffer that records every byte received."""

    def __init__(self, sock: socket.socket, conn: Connection) -> None:
        self.sock, self.conn, self.buffer = sock, conn, b""
        sock.settimeout(READ_TIMEOUT)

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except (OSError, ssl.SSLError):
            chunk = b""
        self.conn.received += chunk
        self.buffer += chunk
        return bool(chunk)

    def read_until(self, delimiter: bytes) -> bytes | None:
        while delimiter not in self.buffer:
            if not self._fill():
                return None
        head, _, self.buffer = self.buffer.partition(delimiter)
        return head + delimiter

    def read_exact(self, n: int) -> bytes | None:
        while len(self.buffer) < n:
            if not self._fill():
                return None
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def drain(self) -> None:
        """Record whatever else the client sends until it closes (or goes quiet)."""
        self.sock.settimeout(2.0)
        while self._fill():
            pass

    def send(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(data)


class Harness:
    """One listening harness; set `scenario`, run a client inside `session()`, read what each connection sent."""

    def __init__(self, protocol: str, smtp_implicit_tls: bool = False) -> None:
        assert protocol in ("http", "smtp")
        self.protocol, self.smtp_implicit_tls = protocol, smtp_implicit_tls
        self.scenario = "ok"
        cert, key = certificate()
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.tls.load_cert_chain(cert, key)
        self.tls.set_alpn_protocols(["http/1.1", "h2"])
        self.tls.sni_callback = self._remember_sni
        self._sni: dict[int, str | None] = {}
        self._lock = threading.Condition()
        self._active = 0
        self._connections: list[Connection] = []
        self.server = _Server(self)
        self.port = self.server.server_address[1]
        self.refused_port = _unused_port()
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @contextlib.contextmanager
    def session(self):
        """Collect the connections made while the block runs; on exit, wait for every one of them to finish."""
        with self._lock:
            self._connections = []
        result: list[Connection] = []
        try:
            yield result
        finally:
            self._wait_idle()
            with self._lock:
                result.extend(self._connections)

    def _wait_idle(self, limit: float = 15.0) -> None:
        deadline = time.monotonic() + limit
        with self._lock:
            while time.monotonic() < deadline:
                # Accepting and counting happen under this lock (see _Server.get_request), so a listening socket
                # with nothing pending and no active handler means every connection has been handled.
                pending = select.select([self.server.socket], [], [], 0)[0]
                if not pending and self._active == 0:
                    return
                self._lock.wait(0.01)

    def _remember_sni(self, sslsock, name, _ctx) -> None:
        self._sni[id(sslsock)] = name

    # -- per connection (in the server's handler threads) ------------------------------------------------------

    def handle(self, sock: socket.socket) -> None:
        conn = Connection()
        with self._lock:
            self._connections.append(conn)
        try:
            if self.protocol == "smtp":
                self._smtp(sock, conn)
            else:
                self._http(sock, conn)
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            with self._lock:
                self._active -= 1
                self._lock.notify_all()

    def _start_tls(self, sock: socket.socket, conn: Connection) -> socket.socket | None:
        conn.tls = True
        sock.settimeout(READ_TIMEOUT)
        try:
            tls = self.tls.wrap_socket(sock, server_side=True)
        except (OSError, ssl.SSLError):
            conn.events.append("TLS handshake failed")
            return None
        conn.sni, conn.alpn = self._sni.pop(id(tls), None), tls.selected_alpn_protocol()
        return tls

    def _http(self, sock: socket.socket, conn: Connection) -> None:
        sock.settimeout(READ_TIMEOUT)
        try:
            first = sock.recv(1, socket.MSG_PEEK)
        except OSError:
            first = b""
        if first == b"\x16":
            sock = self._start_tls(sock, conn)
            if sock is None:
                return
        stream = Stream(sock, conn)
        head = stream.read_until(b"\r\n\r\n")
        if head is None:
            return
        body = _read_http_body(stream, head)
        if self.scenario == "drop":
            return
        status, ctype, payload = self._http_answer(head + (body or b""))
        stream.send(b"HTTP/1.1 %s\r\nServer: forewarn-harness\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                    b"Connection: close\r\n\r\n%s" % (status, ctype, len(payload), payload))
        stream.drain()

    def _http_answer(self, request: bytes) -> tuple[bytes, bytes, bytes]:
        scenario = self.scenario
        if scenario == "echo":
            return b"200 OK", b"text/plain", request
        if scenario == "error":
            return b"500 Internal Server Error", b"text/plain", b"internal error\n"
        if scenario.startswith("says:"):
            return b"200 OK", b"text/plain; charset=utf-8", scenario[len("says:"):].encode() + b"\n"
        return b"200 OK", b"application/json", OK_BODY

    def _smtp(self, sock: socket.socket, conn: Connection) -> None:
        if self.smtp_implicit_tls:
            sock = self._start_tls(sock, conn)
            if sock is None:
                return
        stream = Stream(sock, conn)
        if self.scenario == "drop":
            return
        if self.scenario == "error":
            stream.send(b"421 4.3.2 %s service not available\r\n" % HOSTNAME)
            stream.drain()
            return
        stream.send(b"220 %s ESMTP forewarn-harness\r\n" % HOSTNAME)
        while (line := stream.read_until(b"\n")) is not None:
            verb = line.split(None, 1)[0].upper() if line.strip() else b""
            if verb == b"EHLO":
                extensions = [b"SIZE 104857600", b"8BITMIME"] + ([] if conn.tls else [b"STARTTLS"]) + [b"HELP"]
                reply = [b"250-" + HOSTNAME] + [b"250-" + e for e in extensions[:-1]] + [b"250 " + extensions[-1]]
                stream.send(b"\r\n".join(reply) + b"\r\n")
            elif verb == b"HELO":
                stream.send(b"250 %s\r\n" % HOSTNAME)
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                stream.send(b"250 2.0.0 OK\r\n")
            elif verb == b"VRFY":
                stream.send(b"252 2.1.5 cannot verify\r\n")
            elif verb == b"DATA":
                stream.send(b"354 end data with <CR><LF>.<CR><LF>\r\n")
                if stream.read_until(b"\r\n.\r\n") is None:
                    return
                if self.scenario == "echo":
                    stream.send(b"554 5.6.0 message rejected by harness\r\n")
                else:
                    stream.send(b"250 2.0.0 OK queued as 1\r\n")
            elif verb == b"STARTTLS" and not conn.tls:
                stream.send(b"220 2.0.0 ready to start TLS\r\n")
                tls = self._start_tls(sock, conn)
                if tls is None:
                    return
                sock, stream = tls, Stream(tls, conn)
            elif verb == b"QUIT":
                stream.send(b"221 2.0.0 bye\r\n")
                stream.drain()
                return
            else:
                stream.send(b"502 5.5.2 command not recognized\r\n")


def _read_http_body(stream: Stream, head: bytes) -> bytes | None:
    length = re.search(rb"(?im)^content-length:[ \t]*(\d+)", head)
    if length:
        return stream.read_exact(int(length.group(1)))
    if re.search(rb"(?im)^transfer-encoding:[ \t]*chunked", head):
        body = b""
        while (size_line := stream.read_until(b"\r\n")) is not None:
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            chunk = stream.read_exact(size + 2)
            if chunk is None:
                return None
            body += chunk[:-2]
            if size == 0:
                break
        return body
    return b""


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self):
        # Accept and count in one step under the harness's lock: see Harness._wait_idle.
        with self.harness._lock:
            request = super().get_request()
            self.harness._active += 1
            return request

    def handle_error(self, request, client_address) -> None:  # a client that misbehaves is recorded, not logged
        pass


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.harness.handle(self.request)


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
