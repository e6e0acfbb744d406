import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { parseVia, SipHeaders, type SipRequest, type SipResponse } from '../message/index.js';
import { Logger } from '../../util/Logger.js';
import { SipTransport } from './SipTransport.js';
import type { SipSource } from './types.js';

const log = new Logger('silent');
const open: SipTransport[] = [];
after(async () => {
  await Promise.all(open.map((t) => t.close()));
});

async function transport(o: Partial<Parameters<typeof SipTransport.create>[0]> = {}): Promise<SipTransport> {
  const t = await SipTransport.create({ log, ...o });
  open.push(t);
  return t;
}

/** Messages a transport emits, awaitable in order. */
function inbox(t: SipTransport): { next(): Promise<[SipRequest | SipResponse, SipSource]>; items: Array<[SipRequest | SipResponse, SipSource]> } {
  const items: Array<[SipRequest | SipResponse, SipSource]> = [];
  const waiters: Array<() => void> = [];
  const push = (m: SipRequest | SipResponse, s: SipSource): void => {
    items.push([m, s]);
    waiters.shift()?.();
  };
  t.on('request', push);
  t.on('response', push);
  let read = 0;
  return {
    items,
    async next() {
      while (items.length <= read) await new Promise<void>((r) => waiters.push(r));
      return items[read++]!;
    },
  };
}

function rawRequest(o: { via: string; method?: string; callId?: string; extra?: string[]; body?: string }): string {
  const method = o.method ?? 'OPTIONS';
  const body = o.body ?? '';
  return [
    `${method} sip:x@127.0.0.1 SIP/2.0`,
    `Via: ${o.via}`,
    'Max-Forwards: 70',
    'From: <sip:peer@example.com>;tag=p1',
    'To: <sip:x@127.0.0.1>',
    `Call-ID: ${o.callId ?? 'c1'}`,
    `CSeq: 1 ${method}`,
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

async function udpPeer(): Promise<{ sock: UdpSocket; port: number; next(): Promise<string> }> {
  const sock = createSocket('udp4');
  const queue: string[] = [];
  const waiters: Array<() => void> = [];
  sock.on('message', (b) => {
    queue.push(b.toString('utf8'));
    waiters.shift()?.();
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  after(() => sock.close());
  return {
    sock,
    port: sock.address().port,
    async next() {
      while (queue.length === 0) await new Promise<void>((r) => waiters.push(r));
      return queue.shift()!;
    },
  };
}

async function tcpPeer(port: number): Promise<{ sock: Socket; data(): string; waitFor(re: RegExp): Promise<string> }> {
  const sock = connect({ host: '127.0.0.1', port });
  await once(sock, 'connect');
  let buf = '';
  const waiters: Array<() => void> = [];
  sock.on('data', (d) => {
    buf += d.toString('utf8');
    for (const w of waiters.splice(0)) w();
  });
  after(() => sock.destroy());
  return {
    sock,
    data: () => buf,
    async waitFor(re) {
      while (!re.test(buf)) await new Promise<void>((r) => waiters.push(r));
      return buf;
    },
  };
}

describe('SipTransport', () => {
  test('binds UDP and TCP on one ephemeral port and builds our Via with branch and rport', async () => {
    const t = await transport();
    assert.ok(t.port > 0);
    const via = parseVia(t.createVia('tcp', 'z9hG4bKabc'));
    assert.equal(via.transport, 'TCP');
    assert.equal(via.host, '127.0.0.1');
    assert.equal(via.port, t.port);
    assert.equal(via.branch, 'z9hG4bKabc');
    assert.equal(via.rport, true);
    assert.deepEqual(await t.resolve({ transport: 'udp', host: 'localhost', port: 5060 }), { transport: 'udp', address: '127.0.0.1', port: 5060 });
  });

  test('UDP request: received and rport stamped on the top Via; response routed to received:rport', async () => {
    const t = await transport();
    const box = inbox(t);
    const peer = await udpPeer();
    peer.sock.send(rawRequest({ via: 'SIP/2.0/UDP 10.9.9.9:5999;branch=z9hG4bK1;rport' }), t.port, '127.0.0.1');
    const [req, source] = await box.next();
    assert.equal(req.kind, 'request');
    const via = parseVia(req.headers.get('Via')!);
    assert.equal(via.received, '127.0.0.1');
    assert.equal(via.rport, peer.port);
    assert.deepEqual(source, { transport: 'udp', address: '127.0.0.1', port: peer.port });

    const headers = new SipHeaders();
    for (const v of req.headers.getAll('Via')) headers.append('Via', v);
    for (const n of ['From', 'To', 'Call-ID', 'CSeq']) headers.append(n, req.headers.get(n)!);
    await t.sendResponse({ kind: 'response', status: 200, reason: 'OK', headers, body: Buffer.alloc(0) });
    assert.match(await peer.next(), /^SIP\/2.0 200 OK\r\n/);
  });

  test('UDP request without rport and with a matching sent-by is left alone; response goes to the sent-by port', async () => {
    const t = await transport();
    const box = inbox(t);
    const peer = await udpPeer();
    const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK2`;
    peer.sock.send(rawRequest({ via }), t.port, '127.0.0.1');
    const [req] = await box.next();
    assert.equal(req.headers.get('Via'), via);
  });

  test('garbage datagrams never crash: unparseable requests get 400 <reason>, the rest is dropped and counted', async () => {
    const t = await transport();
    const box = inbox(t);
    const peer = await udpPeer();
    const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK3`;
    peer.sock.send(Buffer.from([0xff, 0x00, 0x13, 0x37, 0x0d, 0x0a]), t.port, '127.0.0.1');
    peer.sock.send('\r\n\r\n', t.port, '127.0.0.1'); // keep-alive, not an error
    peer.sock.send(rawRequest({ via }).replace('CSeq: 1 OPTIONS', 'CSeq: 99999999999 OPTIONS'), t.port, '127.0.0.1');
    const reply = await peer.next();
    assert.match(reply, /^SIP\/2.0 400 Invalid CSeq\r\n/);
    assert.match(reply, /\r\nVia: SIP\/2.0\/UDP 127.0.0.1:\d+;branch=z9hG4bK3\r\n/);
    assert.match(reply, /\r\nTo: <sip:x@127.0.0.1>;tag=\w+\r\n/);
    // A broken ACK is never answered; a broken response is dropped.
    peer.sock.send(rawRequest({ via, method: 'ACK' }).replace('CSeq: 1 ACK', 'CSeq: x ACK'), t.port, '127.0.0.1');
    peer.sock.send('SIP/2.0 200 OK\r\nVia: nonsense\r\n\r\n', t.port, '127.0.0.1');
    // The transport still works afterwards.
    peer.sock.send(rawRequest({ via, callId: 'after' }), t.port, '127.0.0.1');
    const [ok] = await box.next();
    assert.equal(ok.headers.get('Call-ID'), 'after');
    const c = t.counters;
    assert.equal(c.parseErrors, 4);
    assert.equal(c.badRequestsAnswered, 1);
    assert.equal(c.badMessagesDropped, 3);
    assert.equal(c.keepalives, 1);
  });

  test('responses whose top Via is not ours are dropped (RFC 3261 §18.1.2)', async () => {
    const t = await transport();
    const box = inbox(t);
    const peer = await udpPeer();
    const resp = (via: string, callId: string): string =>
      ['SIP/2.0 200 OK', `Via: ${via}`, 'From: <sip:a@b>;tag=1', 'To: <sip:a@b>;tag=2', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n');
    peer.sock.send(resp('SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx', 'foreign'), t.port, '127.0.0.1');
    peer.sock.send(resp(`SIP/2.0/UDP 127.0.0.1:${t.port};branch=z9hG4bKx;rport=1;received=127.0.0.1`, 'ours'), t.port, '127.0.0.1');
    const [res] = await box.next();
    assert.equal(res.headers.get('Call-ID'), 'ours');
    assert.equal(t.counters.foreignResponsesDropped, 1);
  });

  test('TCP: stream framing across chunk boundaries, keep-alive ping answered with CRLF', async () => {
    const t = await transport();
    const box = inbox(t);
    const peer = await tcpPeer(t.port);
    const via = 'SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK4';
    const two = rawRequest({ via, callId: 'a', method: 'INFO', body: 'hello\r\n\r\nbody' }) + rawRequest({ via, callId: 'b' });
    peer.sock.write(two.slice(0, 37));
    await new Promise((r) => setTimeout(r, 20));
    peer.sock.write(two.slice(37, 300));
    await new Promise((r) => setTimeout(r, 20));
    peer.sock.write(`${two.slice(300)}\r\n\r\n`);
    const [a, sa] = await box.next();
    const [b, sb] = await box.next();
    assert.equal(a.headers.get('Call-ID'), 'a');
    assert.equal(a.body.toString(), 'hello\r\n\r\nbody');
    assert.equal(b.headers.get('Call-ID'), 'b');
    assert.equal(sa.connectionId, sb.connectionId);
    assert.equal(sa.transport, 'tcp');
    await peer.waitFor(/^\r\n$/);
    assert.equal(t.counters.keepalives, 1);
  });

  test('TCP: a bad framed request gets 400 on the same connection; lost framing closes it', async () => {
    const t = await transport();
    const peer = await tcpPeer(t.port);
    const via = 'SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK5';
    peer.sock.write(rawRequest({ via }).replace('Max-Forwards: 70', 'Max-Forwards: 9999'));
    const got = await peer.waitFor(/\r\n\r\n/);
    assert.match(got, /^SIP\/2.0 400 Invalid Max-Forwards\r\n/);
    peer.sock.write('OPTIONS sip:x@y SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK6\r\n\r\n');
    await once(peer.sock, 'close');
    assert.equal(t.counters.badMessagesDropped, 1);
    assert.equal(t.tcpConnectionCount, 0);
  });

  test('TCP: one outbound connection reused for requests; responses come back over it', async () => {
    const a = await transport();
    const b = await transport();
    const boxA = inbox(a);
    const boxB = inbox(b);
    const dest = { transport: 'tcp', address: '127.0.0.1', port: b.port } as const;
    for (const id of ['r1', 'r2', 'r3']) {
      const headers = new SipHeaders()
        .append('Via', a.createVia('tcp', `z9hG4bK${id}`))
        .append('From', '<sip:a@h>;tag=1')
        .append('To', '<sip:b@h>')
        .append('Call-ID', id)
        .append('CSeq', '1 OPTIONS');
      await a.send({ kind: 'request', method: 'OPTIONS', uri: 'sip:b@h', headers, body: Buffer.alloc(0) }, dest);
    }
    const received: Array<[SipRequest, SipSource]> = [];
    for (let i = 0; i < 3; i++) {
      const [m, s] = await boxB.next();
      assert.equal(m.kind, 'request');
      received.push([m, s]);
    }
    assert.deepEqual(received.map(([m]) => m.headers.get('Call-ID')), ['r1', 'r2', 'r3']);
    assert.equal(new Set(received.map(([, s]) => s.connectionId)).size, 1);
    const [req, src] = received[0]!;
    const headers = new SipHeaders();
    for (const v of req.headers.getAll('Via')) headers.append('Via', v);
    for (const n of ['From', 'To', 'Call-ID', 'CSeq']) headers.append(n, req.headers.get(n)!);
    await b.sendResponse({ kind: 'response', status: 200, reason: 'OK', headers, body: Buffer.alloc(0) }, src);
    const [res] = await boxA.next();
    assert.equal(res.kind, 'response');
    assert.equal(a.counters.tcpConnected, 1);
    assert.equal(a.counters.tcpAccepted, 0, 'the response used the existing connection');
    assert.equal(b.counters.tcpAccepted, 1);
    assert.equal(b.counters.tcpConnected, 0);
  });

  test('TCP: idle connections are closed; the per-IP cap refuses extra connections', async () => {
    const t = await transport({ idleTimeoutMs: 150, maxConnectionsPerIp: 2 });
    const p1 = await tcpPeer(t.port);
    await tcpPeer(t.port);
    const p3 = await tcpPeer(t.port);
    await once(p3.sock, 'close');
    assert.equal(t.counters.tcpRejected, 1);
    await once(p1.sock, 'close');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(t.counters.tcpIdleClosed, 2);
    assert.equal(t.tcpConnectionCount, 0);
    // Freed slots can be used again.
    const p4 = await tcpPeer(t.port);
    p4.sock.write('\r\n\r\n');
    await p4.waitFor(/\r\n/);
  });

  test('TCP: a refused connection rejects send with SipTransportError', async () => {
    const t = await transport();
    const closed = await transport();
    const port = closed.port;
    await closed.close();
    await assert.rejects(
      t.send(Buffer.from('x'), { transport: 'tcp', address: '127.0.0.1', port }),
      (e: Error) => e.name === 'SipTransportError',
    );
    assert.equal(t.counters.sendErrors, 1);
  });
});
