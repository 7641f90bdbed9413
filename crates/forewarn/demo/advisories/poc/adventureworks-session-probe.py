#!/usr/bin/env python3
"""CVE-2026-41207 probe: does Adventure Works MFT deserialize v1 cookies?
Sends a truncated Java stream header (no object, no gadget) once.
Usage: adventureworks-session-probe.py [host] [port] [http|https]"""
import base64
import http.client
import ssl
import sys

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8443
scheme = sys.argv[3] if len(sys.argv) > 3 else "https"
ctx = ssl.create_default_context()
ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # lab certificates
stream = base64.b64encode(b"\xac\xed\x00\x05\x73\xff").decode()  # magic, TC_OBJECT, junk


def get(cookie=None):
    conn = (http.client.HTTPSConnection(host, port, timeout=15, context=ctx)
            if scheme == "https" else http.client.HTTPConnection(host, port, timeout=15))
    try:
        conn.request("GET", "/awmft/webclient/login",
                     headers={"Cookie": cookie} if cookie else {})
        r = conn.getresponse()
        return r.status, r.read(65536).decode("latin-1")
    except OSError as e:
        return None, str(e)
    finally:
        conn.close()


status, body = get("AWSESSIONSTATE=v1." + stream)
if status is None:
    sys.exit("no answer from %s:%d: %s" % (host, port, body))
if "AWMFT-SESS-0042" in body:
    print("VULNERABLE: legacy deserializer reached (HTTP %s)" % status)
else:
    print("rejected: legacy path not reached (HTTP %s)" % status)
print("service still answers" if get()[0] == 200 else "service does not answer")
