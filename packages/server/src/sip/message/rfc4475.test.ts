/**
 * RFC 4475 torture messages (fixtures/rfc4475): what must parse, what must be rejected and with
 * which status, and, for syntactically valid but semantically odd messages, the fact a UAS
 * acts on next.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { SipParseError } from './errors.js';
import { parseNameAddr } from './NameAddr.js';
import { getParam, headerParams } from './params.js';
import { parseCSeq, parseMaxForwards } from './scalars.js';
import { parseSipMessage, type SipMessage, type SipRequest, type SipResponse } from './SipMessage.js';
import { SipStreamFramer } from './SipStreamFramer.js';
import { parseSipUri, uriScheme } from './SipUri.js';
import { isRfc3261Branch, parseVia } from './Via.js';

const dir = new URL('./fixtures/rfc4475/', import.meta.url);
const fixture = (name: string): Buffer => readFileSync(new URL(`${name}.dat`, dir));

function request(name: string): SipRequest {
  const m = parseSipMessage(fixture(name));
  assert.equal(m.kind, 'request', name);
  return m as SipRequest;
}

function response(name: string): SipResponse {
  const m = parseSipMessage(fixture(name));
  assert.equal(m.kind, 'response', name);
  return m as SipResponse;
}

function rejection(name: string): SipParseError {
  try {
    parseSipMessage(fixture(name));
  } catch (e) {
    assert.ok(e instanceof SipParseError, `${name}: ${String(e)}`);
    return e;
  }
  assert.fail(`${name} was accepted`);
}

const header = (m: SipMessage, n: string): string => m.headers.get(n) ?? assert.fail(`no ${n}`);

describe('RFC 4475 §3.1.1 valid messages parse', () => {
  test('every fixture in valid/ parses', () => {
    const names = readdirSync(new URL('valid/', dir)).filter((f) => f.endsWith('.dat'));
    assert.equal(names.length, 13);
    for (const f of names) assert.doesNotThrow(() => parseSipMessage(fixture(`valid/${f.slice(0, -4)}`)), f);
  });

  test('3.1.1.1 wsinv: whitespace, folding, compact forms, escaped quotes', () => {
    const m = request('valid/wsinv');
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
    const to = parseNameAddr(header(m, 'To'));
    assert.equal(to.uri, 'sip:vivekg@chair-dnrc.example.com');
    assert.equal(getParam(to.params, 'tag')?.value, '1918181833n');
    const from = parseNameAddr(header(m, 'from'));
    assert.equal(from.displayName, 'J Rosenberg \\"');
    assert.equal(getParam(from.params, 'tag')?.value, '98asjd8');
    assert.equal(parseMaxForwards(header(m, 'Max-Forwards')), 68);
    assert.deepEqual(parseCSeq(header(m, 'CSeq')), { seq: 9, method: 'INVITE' });
    const vias = m.headers.getAll('Via').map(parseVia);
    assert.deepEqual(
      vias.map((v) => [v.transport, v.host, v.branch]),
      [
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ],
    );
    assert.equal(header(m, 'Subject'), '');
    assert.equal(header(m, 'NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(header(m, 'UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    const contact = parseNameAddr(header(m, 'm'));
    assert.equal(contact.displayName, 'Quoted string ""');
    assert.deepEqual(contact.params.map((p) => [p.name, p.value]), [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    const route = parseSipUri(parseNameAddr(header(m, 'Route')).uri);
    assert.deepEqual(route.params.map((p) => p.name), ['lr', 'unknownwith', 'unknown-no-value']);
    assert.equal(m.body.length, 150);
  });

  test('3.1.1.2 intmeth: unusual method, URI, escaped NUL/BEL/DEL, UTF-8 values', () => {
    const m = request('valid/intmeth');
    assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    const ruri = parseSipUri(m.uri);
    assert.equal(ruri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(ruri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(ruri.host, 'example.com');
    const to = parseNameAddr(header(m, 'To'));
    assert.equal(to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(parseSipUri(to.uri).user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    const from = parseNameAddr(header(m, 'From'));
    assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(getParam(from.params, "fromParam''~+*_!.-%")?.value, 'работающий');
    assert.equal(getParam(from.params, 'tag')?.value, "_token~1'+`*%!-.");
    assert.equal(header(m, 'Call-ID'), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.equal(parseCSeq(header(m, 'CSeq')).method, m.method);
    assert.equal(header(m, "extensionHeader-!.%*+_`'~"), '\ufeff大停電');
    assert.equal(parseVia(header(m, 'Via')).branch, "z9hG4bK-.!%66*_+`'~");
  });

  test('3.1.1.3 esc01: escapes in URIs are decoded, compact C is Content-Type', () => {
    const m = request('valid/esc01');
    const ruri = parseSipUri(m.uri);
    assert.equal(ruri.user, 'sips:user@example.com');
    assert.equal(ruri.host, 'example.net');
    assert.equal(parseSipUri(parseNameAddr(header(m, 'To')).uri).user, 'user');
    assert.equal(parseSipUri(parseNameAddr(header(m, 'From')).uri).user, 'I have spaces');
    assert.equal(header(m, 'Content-Type'), 'application/sdp');
    assert.equal(header(m, 'Call-ID'), 'esc01.239409asdfakjkn23onasd0-3234');
    const contact = parseSipUri(parseNameAddr(header(m, 'Contact')).uri);
    assert.equal(contact.user, 'caller');
    assert.deepEqual(contact.params, [{ name: 'lr', value: null }, { name: 'name', value: 'value%41' }]);
  });

  test('3.1.1.4 escnull: %00 in user parts', () => {
    const m = request('valid/escnull');
    assert.equal(parseSipUri(parseNameAddr(header(m, 'To')).uri).user, 'null-\0-null');
    const users = m.headers.getAll('Contact').map((c) => parseSipUri(parseNameAddr(c).uri).user);
    assert.deepEqual(users, ['\0', '\0\0']);
    assert.equal(header(m, 'Content-Length'), '0');
  });

  test('3.1.1.5 esc02: % is not an escape in tokens and display names', () => {
    const m = request('valid/esc02');
    assert.equal(m.method, 'RE%47IST%45R');
    assert.equal(parseNameAddr(header(m, 'To')).displayName, '%Z%45');
    assert.equal(m.headers.getAll('Contact').length, 2);
    assert.equal(header(m, 'C%6Fntact'), '<sip:alias2@host2.example.com>');
    assert.equal(parseVia(header(m, 'Via')).rport, true);
  });

  test('3.1.1.6 lwsdisp: no LWS between display name and <', () => {
    assert.equal(parseNameAddr(header(request('valid/lwsdisp'), 'From')).displayName, 'caller');
  });

  test('3.1.1.7 longreq: long values, 34 Vias in many spellings', () => {
    const m = request('valid/longreq');
    const vias = m.headers.getAll('Via').map(parseVia);
    assert.equal(vias.length, 34);
    assert.equal(vias[0]!.host, 'sip33.example.com');
    assert.equal(vias[32]!.host, 'sip1.example.com');
    assert.equal(vias[33]!.received, '192.0.2.5');
    assert.equal(vias[33]!.branch, `very${'long'.repeat(50)}branchvalue`);
    const to = parseNameAddr(header(m, 'To'));
    assert.equal(to.displayName, `I have a user name of ${'extremely'.repeat(10)} proportion`);
    assert.equal(parseSipUri(to.uri).port, 6000);
    const from = parseNameAddr(header(m, 'From'));
    assert.equal(getParam(from.params, 'tag')?.value, `12${'982'.repeat(50)}424`);
    assert.equal(header(m, 'Call-ID'), `longreq.one${'really'.repeat(20)}longcallid`);
    assert.ok(header(m, `Unknown-${'Long'.repeat(20)}-Name`).startsWith('unknown-long'));
    assert.equal(m.body.length, 150);
  });

  test('3.1.1.8 dblreq: over UDP only the first request counts, trailing octets are dropped', () => {
    const m = request('valid/dblreq');
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.body.length, 0);
    assert.equal(header(m, 'Call-ID'), 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
  });

  test('3.1.1.9 semiuri: semicolons in the user part', () => {
    const m = request('valid/semiuri');
    const ruri = parseSipUri(m.uri);
    assert.equal(ruri.user, 'user;par=u@example.net');
    assert.equal(ruri.host, 'example.com');
    assert.deepEqual(ruri.params, []);
    assert.deepEqual(m.headers.getAll('Accept'), [
      'application/sdp', 'application/pkcs7-mime', 'multipart/mixed', 'multipart/signed', 'message/sip', 'message/sipfrag',
    ]);
  });

  test('3.1.1.10 transports: unknown transports in Via', () => {
    const m = request('valid/transports');
    assert.deepEqual(m.headers.getAll('Via').map((v) => parseVia(v).transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  test('3.1.1.11 mpart01: binary multipart body is taken by Content-Length untouched', () => {
    const m = request('valid/mpart01');
    assert.equal(m.body.length, 553);
    assert.ok(m.body.subarray(0, 20).toString('latin1').startsWith('--7a9cbec02ceef655'));
    assert.ok(m.body.toString('latin1').endsWith('--7a9cbec02ceef655--\r\n'));
    assert.equal(getParam(headerParams(header(m, 'Content-Type')), 'boundary')?.value, '7a9cbec02ceef655');
  });

  test('3.1.1.12 unreason: UTF-8 reason phrase', () => {
    const m = response('valid/unreason');
    assert.equal(m.status, 200);
    assert.equal(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
    assert.equal(m.body.length, 154);
  });

  test('3.1.1.13 noreason: empty reason phrase', () => {
    const m = response('valid/noreason');
    assert.equal(m.status, 100);
    assert.equal(m.reason, '');
  });
});

/**
 * §3.1.2: how each invalid message is treated. `status`/`reason` are what a UAS sends back
 * (requests) or why the message is dropped (responses, which are never answered).
 */
const INVALID: ReadonlyArray<{ name: string; status: number; reason: string; rfc: string }> = [
  { name: 'badinv01', status: 400, reason: 'Invalid Via', rfc: 'extraneous ;; and , separators: 400' },
  { name: 'clerr', status: 400, reason: 'Content-Length Exceeds Message', rfc: 'UDP Content-Length > body: 400' },
  { name: 'ncl', status: 400, reason: 'Invalid Content-Length', rfc: 'negative Content-Length: 400' },
  { name: 'scalar02', status: 400, reason: 'Invalid CSeq', rfc: 'CSeq > 2^32-1: 400 "due to the CSeq error"' },
  { name: 'scalarlg', status: 400, reason: 'Invalid CSeq', rfc: 'response with CSeq > 2^32-1: drop' },
  { name: 'quotbal', status: 400, reason: 'Invalid To', rfc: 'unterminated quoted display name: 400' },
  { name: 'ltgtruri', status: 400, reason: 'Invalid Request-URI', rfc: '<> around the Request-URI: 400' },
  { name: 'lwsruri', status: 400, reason: 'Invalid Request Line', rfc: 'LWS inside the Request-URI: 400' },
  { name: 'lwsstart', status: 400, reason: 'Invalid Request Line', rfc: 'several SP in the request line: 400' },
  { name: 'trws', status: 400, reason: 'Invalid Request Line', rfc: 'trailing SP: may reject (we do)' },
  { name: 'escruri', status: 400, reason: 'Headers In Request-URI', rfc: 'escaped headers in Request-URI: may reject (we do)' },
  { name: 'regbadct', status: 400, reason: 'Invalid Contact', rfc: 'URI with ? outside <>: 400 reasonable (we do)' },
  { name: 'badaspec', status: 400, reason: 'Invalid To', rfc: 'spaces inside <>: 400 reasonable (we do)' },
  { name: 'baddn', status: 400, reason: 'Invalid From', rfc: 'unquoted non-token display name: 400' },
  { name: 'badvers', status: 505, reason: 'Version Not Supported', rfc: 'SIP/7.0: 505' },
  { name: 'mismatch01', status: 400, reason: 'CSeq Method Mismatch', rfc: 'CSeq method != method: 400' },
  { name: 'mismatch02', status: 400, reason: 'CSeq Method Mismatch', rfc: 'unknown method + mismatch: 400, not 501' },
  { name: 'bigcode', status: 400, reason: 'Invalid Status Code', rfc: 'status 4294967301: drop' },
];

describe('RFC 4475 §3.1.2 invalid messages', () => {
  for (const c of INVALID) {
    test(`${c.name}: ${c.rfc}`, () => {
      const e = rejection(`invalid/${c.name}`);
      assert.equal(e.reason, c.reason);
      assert.equal(e.status, c.status);
    });
  }

  test('requests carry what the error response needs; responses do not', () => {
    for (const c of INVALID) {
      const e = rejection(`invalid/${c.name}`);
      const isResponse = c.name === 'scalarlg' || c.name === 'bigcode';
      assert.equal(e.partial === undefined, isResponse, c.name);
      if (!isResponse) {
        assert.ok(e.partial!.via.length >= 1, c.name);
        assert.ok(e.partial!.callId?.startsWith(c.name), c.name);
        assert.ok(e.partial!.cseq, c.name);
      }
    }
    const p = rejection('invalid/mismatch01').partial!;
    assert.deepEqual(p, {
      method: 'OPTIONS',
      via: ['SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw'],
      from: 'sip:caller@example.net;tag=34525',
      to: 'sip:j.user@example.com',
      callId: 'mismatch01.dj0234sxdfl3',
      cseq: '8 INVITE',
    });
  });

  test('baddate: a non-GMT Date is accepted, since sipcast never interprets Date (RFC allows)', () => {
    assert.equal(header(request('invalid/baddate'), 'Date'), 'Fri, 01 Jan 2010 16:00:00 EST');
  });

  test('every fixture in invalid/ is covered', () => {
    const names = readdirSync(new URL('invalid/', dir)).map((f) => f.replace(/\.dat$/, '')).sort();
    assert.deepEqual(names, [...INVALID.map((c) => c.name), 'baddate'].sort());
  });
});

describe('RFC 4475 §3.1.3, §3.1.4, §3.2: valid syntax, decided by the UAS', () => {
  test('3.1.3.1 badbranch: parses; the bare magic cookie is flagged (UAS may 400 or use 2543 matching)', () => {
    const via = parseVia(header(request('semantic/badbranch'), 'Via'));
    assert.equal(via.branch, 'z9hG4bK');
    assert.equal(isRfc3261Branch(via.branch), false);
    assert.equal(isRfc3261Branch('z9hG4bKkdjuw'), true);
  });

  test('3.1.4.1 insuf: missing To/From/Call-ID is a 400 with what could be salvaged', () => {
    const e = rejection('semantic/insuf');
    assert.equal(e.status, 400);
    assert.match(e.reason, /^Missing (From|To|Call-ID)$/);
    assert.deepEqual(e.partial, { method: 'INVITE', via: ['SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf'], cseq: '193942 INVITE' });
  });

  test('3.1.4.2 unkscm, 3.1.4.3 novelsc: parse; the unknown Request-URI scheme earns a 416', () => {
    assert.equal(uriScheme(request('semantic/unkscm').uri), 'nobodyknowsthisscheme');
    assert.equal(uriScheme(request('semantic/novelsc').uri), 'soap.beep');
    assert.throws(() => parseSipUri(request('semantic/novelsc').uri), SipParseError);
  });

  test('3.1.4.4 unksm2: unknown schemes in To, From, Contact parse', () => {
    const m = request('semantic/unksm2');
    assert.equal(parseNameAddr(header(m, 'To')).uri, 'isbn:2983792873');
    assert.equal(parseNameAddr(header(m, 'From')).uri, 'http://www.example.com');
    assert.equal(parseNameAddr(header(m, 'Contact')).uri, 'name:John_Smith');
  });

  test('3.1.4.5 bext01: Require/Proxy-Require lists split (UAS answers 420)', () => {
    const m = request('semantic/bext01');
    assert.deepEqual(m.headers.getAll('Require'), ['nothingSupportsThis', 'nothingSupportsThisEither']);
    assert.equal(m.headers.getAll('Proxy-Require').length, 2);
  });

  test('3.1.4.6 invut: unknown Content-Type parses (UAS answers 415)', () => {
    const m = request('semantic/invut');
    assert.equal(header(m, 'Content-Type'), 'application/unknownformat');
    assert.equal(m.body.length, 40);
  });

  test('3.1.4.7 regaut01: unknown Authorization scheme is kept verbatim', () => {
    assert.equal(header(request('semantic/regaut01'), 'Authorization'), 'NoOneKnowsThisScheme opaque-data=here');
  });

  test('3.1.4.8 multi01: repeated single-value fields are a 400', () => {
    const e = rejection('semantic/multi01');
    assert.equal(e.status, 400);
    assert.match(e.reason, /^Multiple (CSeq|Call-ID|To|From|Max-Forwards) Headers$/);
  });

  test('3.1.4.9 mcl01: two Content-Lengths are a 400 over UDP and fatal on a stream', () => {
    assert.equal(rejection('semantic/mcl01').reason, 'Multiple Content-Length Headers');
    const events = new SipStreamFramer().push(fixture('semantic/mcl01'));
    assert.deepEqual(events.map((e) => e.type), ['fatal']);
  });

  test('3.1.4.10 bcast: broadcast Via in a response parses', () => {
    const m = response('semantic/bcast');
    assert.equal(parseVia(m.headers.getAll('Via')[1]!).host, '255.255.255.255');
  });

  test('3.1.4.11 zeromf: Max-Forwards 0 parses (a UAS processes it, a proxy answers 483)', () => {
    assert.equal(parseMaxForwards(header(request('semantic/zeromf'), 'Max-Forwards')), 0);
  });

  test('3.1.4.12 cparam01: ;param after an unbracketed Contact URI is a header param', () => {
    const c = parseNameAddr(header(request('semantic/cparam01'), 'Contact'));
    assert.equal(c.uri, 'sip:+19725552222@gw1.example.net');
    assert.deepEqual(c.params, [{ name: 'unknownparam', value: null }]);
  });

  test('3.1.4.13 cparam02: ;param inside <> is a URI param', () => {
    const c = parseNameAddr(header(request('semantic/cparam02'), 'Contact'));
    assert.deepEqual(c.params, []);
    assert.deepEqual(parseSipUri(c.uri).params, [{ name: 'unknownparam', value: null }]);
  });

  test('3.1.4.14 regescrt: escaped Route header inside a bracketed Contact URI', () => {
    const c = parseNameAddr(header(request('semantic/regescrt'), 'Contact'));
    assert.deepEqual(parseSipUri(c.uri).headers, [{ name: 'Route', value: '<sip:sip.example.com>' }]);
  });

  test('3.1.4.15 sdp01: unacceptable Accept parses (UAS answers 415)', () => {
    assert.equal(header(request('semantic/sdp01'), 'Accept'), 'text/nobodyKnowsThis');
  });

  test('3.2.1 inv2543: RFC 2543 request (no Max-Forwards, no branch, no tag, no Content-Length)', () => {
    const m = request('semantic/inv2543');
    assert.equal(m.headers.has('Max-Forwards'), false);
    assert.equal(parseVia(header(m, 'Via')).branch, undefined);
    assert.equal(getParam(parseNameAddr(header(m, 'From')).params, 'tag'), undefined);
    assert.equal(m.body.toString('latin1').split('\r\n')[0], 'v=0');
    assert.equal(m.body.length, 105);
  });
});
