import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MESSAGE_SIZE } from './limits.js';
import { SipStreamFramer, type SipStreamEvent } from './SipStreamFramer.js';

function msg(callId: string, body = '', extra: string[] = []): Buffer {
  const lines = [
    'INVITE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK74bf9',
    'To: <sip:bob@example.com>',
    'From: <sip:alice@example.com>;tag=9fxced76sl',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

const summary = (events: SipStreamEvent[]): string[] =>
  events.map((e) => {
    switch (e.type) {
      case 'message':
        return `message:${e.message.headers.get('Call-ID')}:${e.message.body.length}`;
      case 'keepalive':
        return e.kind;
      default:
        return `${e.type}:${e.error.reason}`;
    }
  });

describe('SipStreamFramer', () => {
  test('splits back-to-back messages by Content-Length', () => {
    const f = new SipStreamFramer();
    const data = Buffer.concat([msg('a', 'v=0\r\n'), msg('b'), msg('c', 'x'.repeat(1000))]);
    assert.deepEqual(summary(f.push(data)), ['message:a:5', 'message:b:0', 'message:c:1000']);
    assert.equal(f.buffered, 0);
  });

  test('reassembles messages fed one byte at a time, and in random slices', () => {
    const data = Buffer.concat([msg('a', 'hello\r\n\r\nworld'), msg('b'), msg('c', 'z')]);
    const f = new SipStreamFramer();
    const got: SipStreamEvent[] = [];
    for (const byte of data) got.push(...f.push(Buffer.from([byte])));
    assert.deepEqual(summary(got), ['message:a:14', 'message:b:0', 'message:c:1']);
    let seed = 7;
    for (let round = 0; round < 50; round++) {
      const g = new SipStreamFramer();
      const out: SipStreamEvent[] = [];
      for (let i = 0; i < data.length; ) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const n = 1 + (seed % 97);
        out.push(...g.push(data.subarray(i, i + n)));
        i += n;
      }
      assert.deepEqual(summary(out), ['message:a:14', 'message:b:0', 'message:c:1']);
    }
  });

  test('RFC 5626 keep-alives between messages: CRLFCRLF ping, CRLF pong', () => {
    const f = new SipStreamFramer();
    assert.deepEqual(summary(f.push(Buffer.from('\r\n\r\n'))), ['ping']);
    assert.deepEqual(summary(f.push(Buffer.from('\r\n'))), ['pong']);
    assert.deepEqual(summary(f.push(Buffer.concat([Buffer.from('\r\n\r\n\r\n'), msg('a')]))), ['ping', 'pong', 'message:a:0']);
    assert.deepEqual(summary(f.push(Buffer.from('\r\n\r'))), []);
    assert.deepEqual(summary(f.push(Buffer.from('\n'))), ['ping']);
    assert.deepEqual(summary(f.push(Buffer.concat([msg('b'), Buffer.from('\r\n\r\n')]))), ['message:b:0', 'ping']);
  });

  test('a well-framed but invalid message is reported and the stream continues', () => {
    const bad = Buffer.from(msg('x').toString().replace('CSeq: 1 INVITE', 'CSeq: 1 BYE'));
    const f = new SipStreamFramer();
    const events = f.push(Buffer.concat([bad, msg('ok')]));
    assert.deepEqual(summary(events), ['invalid:CSeq Method Mismatch', 'message:ok:0']);
    const inv = events[0]!;
    assert.ok(inv.type === 'invalid' && inv.error.partial?.callId === 'x');
    assert.equal(f.closed, false);
  });

  test('missing, duplicated or malformed Content-Length is fatal on a stream', () => {
    const noCl = Buffer.from(msg('a').toString().replace('Content-Length: 0\r\n', ''));
    const dup = msg('a', '', ['Content-Length: 0']);
    const neg = Buffer.from(msg('a').toString().replace('Content-Length: 0', 'Content-Length: -1'));
    const ctl = Buffer.from(msg('a').toString().replace('To:', 'To\x01:'));
    for (const [buf, reason] of [
      [noCl, 'Missing Content-Length'],
      [dup, 'Multiple Content-Length Headers'],
      [neg, 'Invalid Content-Length'],
      [ctl, 'Invalid Header Name'],
    ] as const) {
      const f = new SipStreamFramer();
      assert.deepEqual(summary(f.push(Buffer.concat([msg('before'), buf, msg('after')]))), ['message:before:0', `fatal:${reason}`]);
      assert.equal(f.closed, true);
      assert.deepEqual(f.push(msg('later')), []);
    }
  });

  test('oversize: a huge Content-Length or an endless header section is fatal early', () => {
    const big = new SipStreamFramer();
    const head = Buffer.from(msg('a').toString().replace('Content-Length: 0', `Content-Length: ${MAX_MESSAGE_SIZE}`));
    assert.deepEqual(summary(big.push(head)), ['fatal:Message Too Large']);
    assert.equal(big.closed, true);

    const endless = new SipStreamFramer();
    const chunk = Buffer.from(`X-Filler: ${'a'.repeat(1000)}\r\n`);
    const out: SipStreamEvent[] = [];
    out.push(...endless.push(Buffer.from('INVITE sip:b@example.com SIP/2.0\r\n')));
    for (let i = 0; i < 100 && !endless.closed; i++) out.push(...endless.push(chunk));
    assert.deepEqual(summary(out), ['fatal:Message Too Large']);
    assert.equal(endless.buffered, 0);

    const small = new SipStreamFramer({ maxMessageSize: 300 });
    assert.deepEqual(summary(small.push(msg('a', 'x'.repeat(200)))), ['fatal:Message Too Large']);
  });

  test('a bare CR between messages is fatal', () => {
    assert.deepEqual(summary(new SipStreamFramer().push(Buffer.from('\rX'))), ['fatal:Bare CR']);
  });
});
