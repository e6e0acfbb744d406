import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { SipFormatError, SipParseError } from './errors.js';
import { MAX_HEADERS, MAX_MESSAGE_SIZE } from './limits.js';
import { SipHeaders } from './SipHeaders.js';
import { isKeepAlive, parseSipMessage, serializeSipMessage, type SipMessage, type SipRequest } from './SipMessage.js';

const CRLF = '\r\n';

/** A minimal valid request; `extra` lines go after the mandatory ones. */
function req(extra: string[] = [], opts: { method?: string; start?: string; body?: string } = {}): Buffer {
  const method = opts.method ?? 'OPTIONS';
  const lines = [
    opts.start ?? `${method} sip:bob@example.com SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds',
    'To: <sip:bob@example.com>',
    'From: "Alice" <sip:alice@example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.example.com',
    `CSeq: 314159 ${method}`,
    'Max-Forwards: 70',
    ...extra,
  ];
  return Buffer.from(lines.join(CRLF) + CRLF + CRLF + (opts.body ?? ''), 'utf8');
}

function reject(buf: Buffer, options?: { stream?: boolean }): SipParseError {
  try {
    parseSipMessage(buf, options);
  } catch (e) {
    assert.ok(e instanceof SipParseError, String(e));
    return e;
  }
  assert.fail('accepted');
}

const asRequest = (m: SipMessage): SipRequest => (m.kind === 'request' ? m : assert.fail('not a request'));

describe('header names (the Asterisk "To\\x01:" lesson)', () => {
  test('only SP/HTAB may sit between the name and the colon', () => {
    assert.doesNotThrow(() => parseSipMessage(req(['X-A : 1', 'X-B\t: 2', 'X-C  \t  : 3'])));
    for (const bad of ['X-A\x01: 1', 'X-A\x00: 1', 'X-A\x0b: 1', 'X A: 1', 'X-A\x7f: 1', ': 1', 'X-A 1', 'X-\u00e4: 1']) {
      assert.equal(reject(req([bad])).reason, 'Invalid Header Name', JSON.stringify(bad));
    }
  });

  test('a control character never turns a header into To', () => {
    const buf = Buffer.from(req().toString().replace('To: <sip:bob@example.com>', 'To\x01: <sip:mallory@example.com>'));
    assert.equal(reject(buf).reason, 'Invalid Header Name');
  });

  test('control characters in values are rejected unless quoted-pair escaped', () => {
    assert.equal(reject(req(['Subject: a\x01b'])).reason, 'Control Character In Header');
    assert.equal(reject(req(['Subject: a\x00b'])).reason, 'Control Character In Header');
    assert.doesNotThrow(() => parseSipMessage(req(['Subject: a\tb'])));
  });

  test('bare LF or CR line ends are refused, not guessed', () => {
    assert.equal(reject(Buffer.from(req().toString().replace(/\r\n/g, '\n'))).reason, 'Incomplete Header Section');
    const mixed = Buffer.from(req().toString().replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\nX: y\r\n'));
    assert.equal(reject(mixed).reason, 'Bare CR or LF');
  });

  test('folding before the first header is an error', () => {
    assert.equal(reject(req([], { start: 'OPTIONS sip:bob@example.com SIP/2.0\r\n folded' })).reason, 'Invalid Header Folding');
  });
});

describe('compact forms and lists', () => {
  test('every compact form expands to its full name', () => {
    const m = parseSipMessage(
      req([
        'a: *;audio', 'b: <sip:c@example.com>', 'c: text/plain', 'd: proxy', 'e: gzip', 'j: *;video', 'k: timer',
        'n: <https://example.com/cert>', 'o: dialog', 'r: <sip:d@example.com>', 's: hi', 'u: dialog', 'x: 1800',
        'y: abc', 'm: <sip:alice@192.0.2.1>',
      ], { body: 'hello' }),
    );
    assert.deepEqual(
      m.headers.entries().slice(6).map((h) => h.name),
      [
        'Accept-Contact', 'Referred-By', 'Content-Type', 'Request-Disposition', 'Content-Encoding', 'Reject-Contact',
        'Supported', 'Identity-Info', 'Event', 'Refer-To', 'Subject', 'Allow-Events', 'Session-Expires', 'Identity',
        'Contact',
      ],
    );
    const compact = Buffer.from(
      ['INVITE sip:b@example.com SIP/2.0', 'v: SIP/2.0/UDP h;branch=z9hG4bKx', 't: <sip:b@example.com>',
        'f: <sip:a@example.com>;tag=1', 'i: x@y', 'CSeq: 1 INVITE', 'l: 0', '', ''].join(CRLF),
    );
    const c = parseSipMessage(compact);
    assert.deepEqual(c.headers.entries().map((h) => h.name), ['Via', 'To', 'From', 'Call-ID', 'CSeq', 'Content-Length']);
    assert.equal(c.headers.get('call-id'), 'x@y');
    assert.equal(c.headers.get('I'), 'x@y');
  });

  test('list fields split on top-level commas only', () => {
    const m = parseSipMessage(
      req([
        'Contact: "Bell, Alexander" <sip:a,b@example.com;x=1>;q=0.5;y="a,b", <sip:b@example.com>',
        'Allow: INVITE, ACK,CANCEL , BYE',
        'Supported: ',
        'Require: a,,b',
        'Date: Sat, 13 Nov 2010 23:29:00 GMT',
        'WWW-Authenticate: Digest realm="a", nonce="b"',
      ]),
    );
    assert.deepEqual(m.headers.getAll('Contact'), ['"Bell, Alexander" <sip:a,b@example.com;x=1>;q=0.5;y="a,b"', '<sip:b@example.com>']);
    assert.deepEqual(m.headers.getAll('Allow'), ['INVITE', 'ACK', 'CANCEL', 'BYE']);
    assert.deepEqual(m.headers.getAll('Supported'), ['']);
    assert.deepEqual(m.headers.getAll('Require'), ['a', 'b']);
    assert.deepEqual(m.headers.getAll('Date'), ['Sat, 13 Nov 2010 23:29:00 GMT']);
    assert.equal(m.headers.getAll('WWW-Authenticate').length, 1);
  });

  test('Contact: * stands alone', () => {
    assert.deepEqual(parseSipMessage(req(['Contact: *'], { method: 'REGISTER' })).headers.getAll('Contact'), ['*']);
    assert.equal(reject(req(['Contact: *, <sip:a@example.com>'], { method: 'REGISTER' })).reason, 'Invalid Contact');
  });

  test('Route and Record-Route must use <>', () => {
    assert.equal(reject(req(['Route: sip:proxy.example.com;lr'])).reason, 'Invalid Route');
    assert.equal(reject(req(['Record-Route: <sip:p1.example.com;lr>, sip:p2.example.com'])).reason, 'Invalid Record-Route');
    const m = parseSipMessage(req(['Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>']));
    assert.equal(m.headers.getAll('Record-Route').length, 2);
  });
});

describe('mandatory fields and scalars', () => {
  for (const name of ['Via', 'To', 'From', 'Call-ID', 'CSeq']) {
    test(`missing ${name} is a 400`, () => {
      const buf = Buffer.from(req().toString().split(CRLF).filter((l) => !l.startsWith(`${name}:`)).join(CRLF));
      assert.equal(reject(buf).reason, `Missing ${name}`);
    });
  }

  test('Max-Forwards is optional but must be 0..255 when present', () => {
    const noMf = Buffer.from(req().toString().replace('Max-Forwards: 70\r\n', ''));
    assert.doesNotThrow(() => parseSipMessage(noMf));
    assert.equal(reject(req(['Max-Forwards: 256'])).reason, 'Multiple Max-Forwards Headers');
    const big = Buffer.from(req().toString().replace('Max-Forwards: 70', 'Max-Forwards: 256'));
    assert.equal(reject(big).reason, 'Invalid Max-Forwards');
  });

  test('a very long CSeq method (Asterisk/PJSIP 2017 crash) is refused even without a branch', () => {
    const long = 'A'.repeat(5000);
    const buf = Buffer.from(
      [`${long} sip:b@example.com SIP/2.0`, 'Via: SIP/2.0/UDP 192.0.2.1', 'To: <sip:b@example.com>', 'From: <sip:a@example.com>;tag=1',
        'Call-ID: x', `CSeq: 1 ${long}`, '', ''].join(CRLF),
    );
    assert.equal(reject(buf).reason, 'Invalid Method');
    const cseqOnly = req([], { method: 'OPTIONS' }).toString().replace('CSeq: 314159 OPTIONS', `CSeq: 1 ${long}`);
    assert.equal(reject(Buffer.from(cseqOnly)).reason, 'Invalid CSeq');
  });

  test('CSeq bounds', () => {
    const cseq = (v: string): Buffer => Buffer.from(req().toString().replace('CSeq: 314159 OPTIONS', `CSeq: ${v}`));
    assert.doesNotThrow(() => parseSipMessage(cseq('4294967295 OPTIONS')));
    assert.doesNotThrow(() => parseSipMessage(cseq('000000000000000001 OPTIONS')));
    for (const bad of ['4294967296 OPTIONS', '-1 OPTIONS', 'OPTIONS', '1', '1 OPT IONS', '0x10 OPTIONS']) {
      assert.equal(reject(cseq(bad)).reason, 'Invalid CSeq', bad);
    }
  });

  test('Call-ID must be word[@word]', () => {
    const cid = (v: string): Buffer => Buffer.from(req().toString().replace('Call-ID: a84b4c76e66710@pc33.example.com', `Call-ID: ${v}`));
    assert.equal(reject(cid('a b')).reason, 'Invalid Call-ID');
    assert.equal(reject(cid('a@b@c')).reason, 'Invalid Call-ID');
    assert.equal(reject(cid('x'.repeat(2000))).reason, 'Invalid Call-ID');
  });

  test('status line: code range, optional reason, version', () => {
    const res = (line: string): Buffer =>
      Buffer.from([line, 'Via: SIP/2.0/UDP h;branch=z9hG4bKa', 'To: <sip:b@h>;tag=2', 'From: <sip:a@h>;tag=1', 'Call-ID: c', 'CSeq: 1 INVITE', '', ''].join(CRLF));
    const ok = parseSipMessage(res('SIP/2.0 180 Ringing'));
    assert.deepEqual(ok.kind === 'response' && [ok.status, ok.reason], [180, 'Ringing']);
    const bare = parseSipMessage(res('SIP/2.0 200'));
    assert.equal(bare.kind === 'response' && bare.reason, '');
    for (const bad of ['SIP/2.0 99 Low', 'SIP/2.0 700 High', 'SIP/2.0 2000 X', 'SIP/2.0  200 OK', 'SIP/2.0 200 O\x01K']) {
      const e = reject(res(bad));
      assert.ok(['Invalid Status Code', 'Invalid Status Line', 'Invalid Reason Phrase'].includes(e.reason), bad);
      assert.equal(e.partial, undefined);
    }
    assert.equal(reject(res('SIP/3.0 200 OK')).status, 505);
  });
});

describe('Content-Length and sizes', () => {
  test('datagram: missing Content-Length means the rest; smaller drops the excess; larger is a 400', () => {
    assert.equal(parseSipMessage(req([], { body: 'abc' })).body.toString(), 'abc');
    assert.equal(parseSipMessage(req(['Content-Length: 2'], { body: 'abc' })).body.toString(), 'ab');
    assert.equal(reject(req(['Content-Length: 4'], { body: 'abc' })).reason, 'Content-Length Exceeds Message');
    assert.equal(reject(req(['Content-Length: 1e3'], { body: 'abc' })).reason, 'Invalid Content-Length');
    assert.equal(reject(req(['Content-Length: 99999999999999999999999'])).reason, 'Invalid Content-Length');
  });

  test('stream: Content-Length is mandatory and exact', () => {
    assert.equal(reject(req([], { body: 'abc' }), { stream: true }).reason, 'Missing Content-Length');
    assert.equal(reject(req(['Content-Length: 2'], { body: 'abc' }), { stream: true }).reason, 'Content-Length Mismatch');
    assert.equal(parseSipMessage(req(['Content-Length: 3'], { body: 'abc' }), { stream: true }).body.toString(), 'abc');
  });

  test('the body is a copy of the input', () => {
    const buf = req(['Content-Length: 3'], { body: 'abc' });
    const m = parseSipMessage(buf);
    buf.fill(0x21);
    assert.equal(m.body.toString(), 'abc');
  });

  test('size, header count and value length caps', () => {
    const e = reject(Buffer.alloc(MAX_MESSAGE_SIZE + 1, 0x41));
    assert.deepEqual([e.reason, e.status], ['Message Too Large', 513]);
    const many = Array.from({ length: MAX_HEADERS }, (_, n) => `X-H${n}: v`);
    assert.equal(reject(req(many)).reason, 'Too Many Headers');
    const wide = `Supported: ${Array.from({ length: MAX_HEADERS }, (_, n) => `t${n}`).join(',')}`;
    assert.equal(reject(req([wide])).reason, 'Too Many Headers');
    assert.equal(reject(req([`Subject: ${'x'.repeat(9000)}`])).reason, 'Header Too Long');
    assert.equal(reject(req([], { start: `OPTIONS sip:${'a'.repeat(9000)}@example.com SIP/2.0` })).reason, 'Start Line Too Long');
  });

  test('leading CRLFs are skipped; keep-alives are recognised', () => {
    assert.equal(parseSipMessage(Buffer.concat([Buffer.from('\r\n\r\n'), req()])).kind, 'request');
    assert.equal(reject(Buffer.from('\r\n\r\n')).reason, 'Empty Message');
    assert.equal(isKeepAlive(Buffer.from('\r\n\r\n')), true);
    assert.equal(isKeepAlive(Buffer.from('\r\n')), true);
    assert.equal(isKeepAlive(Buffer.from('\r\n\r')), false);
    assert.equal(isKeepAlive(req()), false);
  });
});

describe('SipHeaders', () => {
  test('case-insensitive and compact-aware lookup, ordered mutation', () => {
    const h = new SipHeaders([{ name: 'v', value: 'SIP/2.0/UDP a' }, { name: 'call-id', value: 'x' }]);
    assert.deepEqual(h.entries().map((e) => e.name), ['Via', 'Call-ID']);
    h.prepend('Via', 'SIP/2.0/UDP b').append('VIA', 'SIP/2.0/UDP c');
    assert.deepEqual(h.getAll('v'), ['SIP/2.0/UDP b', 'SIP/2.0/UDP a', 'SIP/2.0/UDP c']);
    h.set('Via', 'SIP/2.0/UDP only');
    assert.deepEqual(h.entries().map((e) => `${e.name}:${e.value}`), ['Via:SIP/2.0/UDP only', 'Call-ID:x']);
    assert.equal(h.delete('i'), 1);
    assert.equal(h.has('Call-ID'), false);
    h.set('X-New', '1');
    assert.equal(h.size, 2);
    assert.deepEqual([...h.clone()].length, 2);
  });

  test('header injection is impossible through the API', () => {
    const h = new SipHeaders();
    assert.throws(() => h.append('To', 'sip:a@b\r\nVia: evil'), SipFormatError);
    assert.throws(() => h.append('To', 'x\ny'), SipFormatError);
    assert.throws(() => h.append('X Bad', 'v'), SipFormatError);
    assert.throws(() => h.append('X:Bad', 'v'), SipFormatError);
    assert.throws(() => new SipHeaders([{ name: 'X', value: '\r' }]), SipFormatError);
  });
});

describe('serializer', () => {
  const dir = new URL('./fixtures/rfc4475/', import.meta.url);
  const fixtures = ['valid', 'semantic'].flatMap((d) =>
    readdirSync(new URL(`${d}/`, dir)).map((f) => readFileSync(new URL(`${d}/${f}`, dir))),
  ).filter((b) => {
    try {
      parseSipMessage(b);
      return true;
    } catch {
      return false;
    }
  });

  test('parse → serialize → parse is stable for every parseable RFC 4475 fixture', () => {
    assert.ok(fixtures.length >= 25);
    for (const buf of fixtures) {
      const a = parseSipMessage(buf);
      const out = serializeSipMessage(a);
      const b = parseSipMessage(out, { stream: true });
      const strip = (m: SipMessage): string[] =>
        m.headers.entries().filter((h) => h.name !== 'Content-Length').map((h) => `${h.name}: ${h.value}`);
      assert.deepEqual(strip(b), strip(a));
      assert.deepEqual(b.body, a.body);
      assert.equal(b.kind, a.kind);
      if (a.kind === 'request' && b.kind === 'request') assert.deepEqual([b.method, b.uri], [a.method, a.uri]);
      if (a.kind === 'response' && b.kind === 'response') assert.deepEqual([b.status, b.reason], [a.status, a.reason]);
      assert.equal(b.headers.get('Content-Length'), String(a.body.length));
      assert.deepEqual(serializeSipMessage(b), out);
    }
  });

  test('writes CRLF, full names, and a correct Content-Length last', () => {
    const m = asRequest(parseSipMessage(req(['l: 0', 'k: timer'])));
    m.body = Buffer.from('v=0\r\n');
    const text = serializeSipMessage(m).toString();
    assert.ok(text.startsWith('OPTIONS sip:bob@example.com SIP/2.0\r\n'));
    assert.ok(text.includes('\r\nSupported: timer\r\n'));
    assert.ok(text.endsWith('\r\nContent-Length: 5\r\n\r\nv=0\r\n'));
    assert.equal(text.match(/Content-Length/g)?.length, 1);
    assert.equal(/(^|\r\n)[a-z]:/i.test(text), false);
  });

  test('refuses what cannot be framed', () => {
    const base = asRequest(parseSipMessage(req()));
    assert.throws(() => serializeSipMessage({ ...base, method: 'IN VITE' }), SipFormatError);
    assert.throws(() => serializeSipMessage({ ...base, uri: 'sip:a@b SIP/2.0\r\nX: y' }), SipFormatError);
    assert.throws(() => serializeSipMessage({ ...base, uri: '' }), SipFormatError);
    const res = { kind: 'response' as const, status: 200, reason: 'OK', headers: base.headers, body: Buffer.alloc(0) };
    assert.doesNotThrow(() => serializeSipMessage(res));
    assert.throws(() => serializeSipMessage({ ...res, status: 1000 }), SipFormatError);
    assert.throws(() => serializeSipMessage({ ...res, reason: 'OK\r\nVia: x' }), SipFormatError);
  });
});
