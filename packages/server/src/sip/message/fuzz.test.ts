/**
 * Fuzz-style robustness: random and mutated input into every parser must end quickly and
 * may only throw the documented error type. Deterministic (seeded) so failures reproduce.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { parseAuthItems } from './authParams.js';
import { DigestAuthError, parseDigestChallenges, parseDigestCredentials } from './DigestAuth.js';
import { DigestClient } from './DigestClient.js';
import { SipParseError } from './errors.js';
import { parseNameAddr } from './NameAddr.js';
import { headerParams } from './params.js';
import { SipHeaders } from './SipHeaders.js';
import { parseSipMessage, serializeSipMessage } from './SipMessage.js';
import { SipStreamFramer } from './SipStreamFramer.js';
import { parseSipUri } from './SipUri.js';
import { parseVia } from './Via.js';

/** mulberry32: tiny seeded PRNG. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const dir = new URL('./fixtures/rfc4475/', import.meta.url);
const corpus: Buffer[] = ['valid', 'invalid', 'semantic'].flatMap((d) =>
  readdirSync(new URL(`${d}/`, dir)).filter((f) => f.endsWith('.dat')).map((f) => readFileSync(new URL(`${d}/${f}`, dir))),
);

/** Bytes that matter to SIP syntax, favoured by the mutator. */
const SPECIAL = Buffer.from('\r\n \t:;,"<>%@\\=/?[]*\x00\x01\x7f\xff0123456789', 'latin1');

function mutate(r: () => number, input: Buffer): Buffer {
  let b = Buffer.from(input);
  const rounds = 1 + Math.floor(r() * 8);
  for (let k = 0; k < rounds; k++) {
    const pos = Math.floor(r() * (b.length + 1));
    const op = Math.floor(r() * 7);
    const special = SPECIAL[Math.floor(r() * SPECIAL.length)]!;
    if (op === 0 && b.length > 0) {
      const at = Math.min(pos, b.length - 1);
      b[at] = (b[at] ?? 0) ^ (1 << Math.floor(r() * 8));
    }
    else if (op === 1) b = Buffer.concat([b.subarray(0, pos), Buffer.from([special]), b.subarray(pos)]);
    else if (op === 2) b = Buffer.concat([b.subarray(0, pos), b.subarray(Math.min(b.length, pos + 1 + Math.floor(r() * 16)))]);
    else if (op === 3) b = b.subarray(0, pos);
    else if (op === 4) {
      const len = Math.floor(r() * 64);
      b = Buffer.concat([b.subarray(0, pos), b.subarray(pos, pos + len), b.subarray(pos)]);
    } else if (op === 5) b = Buffer.concat([b.subarray(0, pos), Buffer.alloc(1 + Math.floor(r() * 2000), special), b.subarray(pos)]);
    else {
      const other = corpus[Math.floor(r() * corpus.length)]!;
      b = Buffer.concat([b.subarray(0, pos), other.subarray(Math.floor(r() * other.length))]);
    }
  }
  return b;
}

function randomBytes(r: () => number): Buffer {
  const len = Math.floor(r() * 600);
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = r() < 0.5 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : Math.floor(r() * 256);
  return b;
}

/** Runs `fn`, allowing only `allowed` errors, and fails if one call takes too long. */
function guarded(fn: () => unknown, allowed: new (...args: never[]) => Error, label: string): void {
  const t0 = performance.now();
  try {
    fn();
  } catch (e) {
    if (!(e instanceof allowed)) assert.fail(`${label}: unexpected ${String(e)}`);
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 250, `${label}: took ${ms.toFixed(1)} ms`);
}

describe('fuzz', () => {
  test('parser: mutated fixtures and random bytes only ever throw SipParseError', () => {
    const r = rng(0x5eed);
    let accepted = 0;
    for (let i = 0; i < 6000; i++) {
      const input = i % 5 === 0 ? randomBytes(r) : mutate(r, corpus[i % corpus.length]!);
      guarded(() => {
        const m = parseSipMessage(input);
        accepted++;
        // Whatever parses must serialize and parse back.
        parseSipMessage(serializeSipMessage(m), { stream: true });
      }, SipParseError, `case ${i}`);
    }
    assert.ok(accepted > 100, `only ${accepted} mutants parsed: the mutator is too destructive to be useful`);
  });

  test('framer: random chunking of mutated streams never throws or stalls', () => {
    const r = rng(0xf4a3e);
    for (let i = 0; i < 400; i++) {
      const parts: Buffer[] = [];
      for (let k = 0; k < 1 + Math.floor(r() * 5); k++) {
        const src = corpus[Math.floor(r() * corpus.length)]!;
        parts.push(r() < 0.5 ? src : mutate(r, src));
        if (r() < 0.3) parts.push(Buffer.from(r() < 0.5 ? '\r\n' : '\r\n\r\n'));
      }
      const stream = Buffer.concat(parts);
      const f = new SipStreamFramer();
      guarded(() => {
        for (let pos = 0; pos < stream.length; ) {
          const n = 1 + Math.floor(r() * 300);
          for (const ev of f.push(stream.subarray(pos, pos + n))) {
            if (ev.type === 'invalid' || ev.type === 'fatal') assert.ok(ev.error instanceof SipParseError);
          }
          pos += n;
        }
        assert.ok(f.buffered <= 64 * 1024 + 300);
      }, SipParseError, `stream ${i}`);
    }
  });

  test('header-value parsers: only SipParseError', () => {
    const r = rng(0xabc);
    const seeds = [
      '"J Rosenberg \\\\\\"" <sip:jdrosen@example.com>;tag=98asjd8',
      'SIP / 2.0 / UDP [2001:db8::1]:5060;branch=z9hG4bK1;rport;received=192.0.2.1',
      'sips:al%69ce:pw@example.com:5061;transport=tcp;lr?Subject=x&a=b',
      '<sip:a@b;lr>;+sip.instance="<urn:uuid:1>";q=0.5',
    ];
    for (let i = 0; i < 3000; i++) {
      const s = mutate(r, Buffer.from(seeds[i % seeds.length]!)).toString('latin1');
      guarded(() => parseNameAddr(s), SipParseError, `name-addr ${JSON.stringify(s)}`);
      guarded(() => parseVia(s), SipParseError, `via ${JSON.stringify(s)}`);
      guarded(() => parseSipUri(s), SipParseError, `uri ${JSON.stringify(s)}`);
      guarded(() => headerParams(s), SipParseError, `params ${JSON.stringify(s)}`);
    }
  });

  test('digest parsers and client: only DigestAuthError', () => {
    const r = rng(0xd16e57);
    const seeds = [
      'Digest realm="spike", nonce="awfcQ2sH2xfFPa6ulvF5soFJwlm6BdMI", qop="auth"',
      'Negotiate abc==, Digest realm="r", nonce="1", algorithm=SHA-256, qop=auth,auth-int, stale=true, opaque="o"',
      'Digest username="a\\"b", realm="r", nonce="n", uri="sip:x", response="0123", cnonce="c", nc=00000001, qop=auth',
    ];
    const client = new DigestClient({ username: 'alice', password: 'secret' });
    for (let i = 0; i < 3000; i++) {
      const s = mutate(r, Buffer.from(seeds[i % seeds.length]!)).toString('latin1');
      guarded(() => parseAuthItems(s), DigestAuthError, `items ${JSON.stringify(s)}`);
      guarded(() => parseDigestChallenges([s]), DigestAuthError, `challenges ${JSON.stringify(s)}`);
      guarded(() => parseDigestCredentials(s), DigestAuthError, `credentials ${JSON.stringify(s)}`);
      if (/[\r\n]/.test(s)) continue; // cannot be a header value in the first place
      const headers = new SipHeaders().append('WWW-Authenticate', s);
      guarded(
        () => client.respond({ status: 401, headers }, { method: 'REGISTER', uri: 'sip:127.0.0.1', headers: new SipHeaders() }),
        DigestAuthError,
        `client ${JSON.stringify(s)}`,
      );
    }
  });

  test('pathological shapes stay linear', () => {
    const blanks = ' '.repeat(60000);
    const cases = [
      Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nSubject: x${blanks}y\r\n\r\n`),
      Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nVia: ${','.repeat(60000)}\r\n\r\n`),
      Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nTo: ${'"'.repeat(60000)}\r\n\r\n`),
      Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nContact: ${'<'.repeat(60000)}\r\n\r\n`),
      Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${'X: y\r\n \r\n'.repeat(6000)}\r\n`),
      Buffer.from(`OPTIONS sip:${';'.repeat(8000)} SIP/2.0\r\n\r\n`),
      Buffer.from(`SIP/2.0 ${'2'.repeat(8000)}\r\n\r\n`),
      Buffer.from('\r\n'.repeat(30000)),
    ];
    for (const c of cases) guarded(() => parseSipMessage(c), SipParseError, c.subarray(0, 40).toString());
    for (const c of cases) guarded(() => new SipStreamFramer().push(c), SipParseError, c.subarray(0, 40).toString());
    guarded(() => parseDigestChallenges([`Digest ${'a=b, '.repeat(3000)}`]), DigestAuthError, 'many params');
    guarded(() => parseDigestChallenges([`Digest realm="${'\\'.repeat(15000)}"`]), DigestAuthError, 'backslashes');
    guarded(() => parseNameAddr(`${'a '.repeat(4000)}<sip:a@b>`), SipParseError, 'long display name');
  });
});
