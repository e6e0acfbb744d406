import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResponse } from './buildResponse.js';
import { InviteServerTransaction } from './InviteServerTransaction.js';
import { NonInviteServerTransaction } from './NonInviteServerTransaction.js';
import { request, testDeps } from './testDeps.js';

const udp = { transport: 'udp', address: '127.0.0.1', port: 5070 } as const;
const tcp = { transport: 'tcp', address: '127.0.0.1', port: 5070, connectionId: 1 } as const;

describe('non-INVITE server transaction', () => {
  test('retransmitted requests: absorbed while trying, answered with the last response after', () => {
    const t = testDeps(false);
    const req = request('BYE', 'z9hG4bKs1');
    const tx = new NonInviteServerTransaction(req, udp, t.server);
    tx.receiveRetransmission();
    assert.equal(t.sent.length, 0);
    tx.respond(buildResponse(req, 200, 'OK'));
    tx.receiveRetransmission();
    tx.receiveRetransmission();
    assert.deepEqual(t.sent.map((s) => s.line), ['SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
    assert.equal(t.stats.absorbed, 3);
    tx.respond(buildResponse(req, 500, 'Too Late'));
    assert.equal(t.sent.length, 3, 'a second final response is ignored');
  });

  test('timer J: 64·T1 over UDP, zero over TCP', () => {
    const t = testDeps(false);
    const req = request('INFO', 'z9hG4bKs2');
    const tx = new NonInviteServerTransaction(req, udp, t.server);
    let terminatedAt = -1;
    tx.on('terminated', () => (terminatedAt = t.clock.now()));
    t.clock.advance(10);
    tx.respond(buildResponse(req, 200, 'OK'));
    t.clock.advance(60_000);
    assert.equal(terminatedAt, 32_010);

    const t2 = testDeps(true);
    const tx2 = new NonInviteServerTransaction(req, tcp, t2.server);
    let done = false;
    tx2.on('terminated', () => (done = true));
    tx2.respond(buildResponse(req, 200, 'OK'));
    t2.clock.advance(0);
    assert.equal(done, true);
  });
});

describe('INVITE server transaction', () => {
  test('sends 100 Trying by itself after 200 ms', () => {
    const t = testDeps(false);
    const req = request('INVITE', 'z9hG4bKs3');
    new InviteServerTransaction(req, udp, t.server);
    t.clock.advance(199);
    assert.equal(t.sent.length, 0);
    t.clock.advance(1);
    assert.deepEqual(t.sent.map((s) => s.line), ['SIP/2.0 100 Trying']);
  });

  test('UDP: 2xx retransmitted by timer G (T1 doubling to T2) until the ACK; timer I absorbs ACK copies', () => {
    const t = testDeps(false);
    const req = request('INVITE', 'z9hG4bKs4');
    const tx = new InviteServerTransaction(req, udp, t.server);
    const events: string[] = [];
    tx.on('acked', () => events.push(`acked@${t.clock.now()}`));
    tx.on('terminated', () => events.push(`terminated@${t.clock.now()}`));
    tx.respond(buildResponse(req, 200, 'OK'));
    t.clock.advance(8_000);
    assert.deepEqual(t.sent.map((s) => s.at), [0, 500, 1500, 3500, 7500]);
    tx.receiveAck();
    tx.receiveAck();
    t.clock.advance(10_000);
    assert.equal(t.sent.length, 5, 'no retransmission after the ACK');
    assert.deepEqual(events, ['acked@8000', 'terminated@13000']);
  });

  test('UDP: non-2xx without ACK: retransmitted until timer H (64·T1), then ackTimeout', () => {
    const t = testDeps(false);
    const req = request('INVITE', 'z9hG4bKs5');
    const tx = new InviteServerTransaction(req, udp, t.server);
    let ackTimeoutAt = -1;
    tx.on('ackTimeout', () => (ackTimeoutAt = t.clock.now()));
    tx.respond(buildResponse(req, 488, 'Not Acceptable Here'));
    tx.receiveRetransmission(); // INVITE retransmitted: the 488 goes out again
    t.clock.advance(40_000);
    assert.equal(ackTimeoutAt, 32_000);
    // 0, retransmission-triggered 0, then G at 500, 1500, 3500, 7500, 11500, ..., 31500
    assert.deepEqual(t.sent.map((s) => s.at), [0, 0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  });

  test('TCP: no timer G; ACK ends the transaction at once (timer I zero)', () => {
    const t = testDeps(true);
    const req = request('INVITE', 'z9hG4bKs6');
    const tx = new InviteServerTransaction(req, tcp, t.server);
    let terminated = false;
    tx.on('terminated', () => (terminated = true));
    tx.respond(buildResponse(req, 200, 'OK'));
    t.clock.advance(20_000);
    assert.equal(t.sent.length, 1);
    tx.receiveAck();
    t.clock.advance(0);
    assert.equal(terminated, true);
  });

  test('request retransmission while proceeding resends the last provisional', () => {
    const t = testDeps(false);
    const req = request('INVITE', 'z9hG4bKs7');
    const tx = new InviteServerTransaction(req, udp, t.server);
    tx.receiveRetransmission();
    assert.equal(t.sent.length, 0, 'nothing to resend yet');
    tx.respond(buildResponse(req, 180, 'Ringing'));
    tx.receiveRetransmission();
    assert.deepEqual(t.sent.map((s) => s.line), ['SIP/2.0 180 Ringing', 'SIP/2.0 180 Ringing']);
    t.clock.advance(1000);
    assert.equal(t.sent.length, 2, 'no 100 Trying after a provisional, no timer G before a final');
  });
});
