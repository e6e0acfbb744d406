import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVia, SipHeaders, type SipRequest } from '../message/index.js';
import { Logger } from '../../util/Logger.js';
import { SipTransport } from '../transport/SipTransport.js';
import type { SipSource } from '../transport/types.js';
import { ScriptedPeer } from '../ua/fixtures/ScriptedPeer.js';
import { buildResponse } from './buildResponse.js';
import { TransactionManager, type ServerTransaction } from './TransactionManager.js';

const log = new Logger('silent');
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

async function setup(): Promise<{ tm: TransactionManager; transport: SipTransport; peer: ScriptedPeer }> {
  const transport = await SipTransport.create({ log });
  const tm = new TransactionManager({ transport, log });
  const peer = await ScriptedPeer.create();
  cleanups.push(async () => {
    tm.close();
    await transport.close();
    await peer.close();
  });
  return { tm, transport, peer };
}

function outgoing(method: string, cseq = 1): SipRequest {
  const headers = new SipHeaders()
    .append('Max-Forwards', '70')
    .append('From', '<sip:a@127.0.0.1>;tag=a1')
    .append('To', '<sip:b@127.0.0.1>')
    .append('Call-ID', 'tm-1')
    .append('CSeq', `${cseq} ${method}`);
  return { kind: 'request', method, uri: 'sip:b@127.0.0.1', headers, body: Buffer.alloc(0) };
}

function incoming(method: string, via: string, o: { toTag?: string; cseq?: number } = {}): string {
  return [
    `${method} sip:a@127.0.0.1 SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    'From: <sip:b@127.0.0.1>;tag=b1',
    `To: <sip:a@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    'Call-ID: tm-in',
    `CSeq: ${o.cseq ?? 1} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('TransactionManager', () => {
  test('client side: our Via with a fresh branch; responses matched by branch and CSeq method; stray responses passed up', async () => {
    const { tm, peer } = await setup();
    const dest = { transport: 'udp', address: '127.0.0.1', port: peer.port } as const;
    const inviteTx = tm.sendRequest(outgoing('INVITE'), dest);
    const inv = await peer.nextRequest('INVITE');
    const via = parseVia(inv.msg.headers.get('Via')!);
    assert.equal(via.branch, inviteTx.branch);
    assert.equal(via.rport, true);
    // CANCEL shares the INVITE's branch but is its own transaction (§9.1, §17.1.3).
    const cancelTx = tm.sendRequest(outgoing('CANCEL'), dest, { branch: inviteTx.branch });
    const cancel = await peer.nextRequest('CANCEL');
    assert.equal(cancel.msg.headers.get('Via'), inv.msg.headers.get('Via'));

    const got: string[] = [];
    inviteTx.on('response', (r) => got.push(`invite ${r.status}`));
    cancelTx.on('response', (r) => got.push(`cancel ${r.status}`));
    const stray: number[] = [];
    tm.on('response', (r) => stray.push(r.status));
    peer.respond(cancel, 200, 'OK');
    peer.respond(inv, 487, 'Request Terminated');
    await peer.nextRequest('ACK');
    assert.deepEqual(got.sort(), ['cancel 200', 'invite 487']);

    const unknown = buildResponse(inv.msg, 200, 'OK');
    unknown.headers.set('Via', inv.msg.headers.get('Via')!.replace(inviteTx.branch, 'z9hG4bKunknown'));
    peer.send(unknown, inv.port);
    for (let i = 0; i < 50 && stray.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(stray, [200]);
    assert.equal(tm.counters.strayResponses, 1);
  });

  test('server side: retransmissions absorbed (and answered again), sent-by part of the key, ACK of a non-2xx absorbed, ACK of a 2xx passed up', async () => {
    const { tm, transport, peer } = await setup();
    const seen: Array<[SipRequest, ServerTransaction | undefined, SipSource]> = [];
    tm.on('request', (req, tx, src) => seen.push([req, tx, src]));
    const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKsame`;
    peer.send(incoming('OPTIONS', via), transport.port);
    peer.send(incoming('OPTIONS', via), transport.port);
    // Same branch from another sent-by is another transaction (§17.2.3).
    peer.send(incoming('OPTIONS', `SIP/2.0/UDP 192.0.2.5:5060;branch=z9hG4bKsame`), transport.port);
    for (let i = 0; i < 50 && seen.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, 2);
    const tx = seen[0]![1]!;
    tx.respond(buildResponse(tx.request, 200, 'OK'));
    await peer.nextResponse('OPTIONS');
    peer.send(incoming('OPTIONS', via), transport.port);
    assert.equal((await peer.nextResponse('OPTIONS')).msg.status, 200, 'the retransmission is answered from the transaction');
    assert.equal(seen.length, 2);

    const inviteVia = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKinv`;
    peer.send(incoming('INVITE', inviteVia, { toTag: 'x', cseq: 2 }), transport.port);
    for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    const ist = seen[2]![1]!;
    ist.respond(buildResponse(ist.request, 486, 'Busy Here'));
    await peer.nextResponse('INVITE');
    peer.send(incoming('ACK', inviteVia, { toTag: 'x', cseq: 2 }), transport.port); // same branch: the transaction's
    peer.send(incoming('ACK', `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKack2`, { toTag: 'x', cseq: 3 }), transport.port);
    for (let i = 0; i < 50 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(seen.length, 4);
    assert.equal(seen[3]![0].method, 'ACK');
    assert.equal(seen[3]![1], undefined);
    assert.equal(seen[3]![0].headers.get('CSeq'), '3 ACK');
    assert.equal(ist.state, 'confirmed');
  });
});
