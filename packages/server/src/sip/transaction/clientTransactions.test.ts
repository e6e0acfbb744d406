import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InviteClientTransaction } from './InviteClientTransaction.js';
import { NonInviteClientTransaction } from './NonInviteClientTransaction.js';
import { flush, request, response, testDeps } from './testDeps.js';

describe('INVITE client transaction', () => {
  test('UDP: timer A retransmits at T1 doubling, timer B times out at 64·T1', () => {
    const t = testDeps(false);
    const tx = new InviteClientTransaction(request('INVITE', 'z9hG4bKa'), 'z9hG4bKa', t.client);
    const events: string[] = [];
    tx.on('timeout', () => events.push(`timeout@${t.clock.now()}`));
    tx.on('terminated', () => events.push(`terminated@${t.clock.now()}`));
    tx.start();
    t.clock.advance(40_000);
    // 0, then A = 500, 1000, 2000, 4000, 8000, 16000 (the next, 32000 later, is after B).
    assert.deepEqual(t.sent.map((s) => s.at), [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert.deepEqual(events, ['timeout@32000', 'terminated@32000']);
    assert.equal(t.stats.retransmissions, 6);
    assert.equal(t.stats.timeouts, 1);
    assert.equal(t.clock.pending, 0);
  });

  test('TCP: no retransmission, timeout at 64·T1', () => {
    const t = testDeps(true);
    const tx = new InviteClientTransaction(request('INVITE', 'z9hG4bKb'), 'z9hG4bKb', t.client);
    let timedOut = -1;
    tx.on('timeout', () => (timedOut = t.clock.now()));
    tx.start();
    t.clock.advance(60_000);
    assert.equal(t.sent.length, 1);
    assert.equal(timedOut, 32_000);
  });

  test('1xx stops timers A and B; non-2xx final is ACKed with the same branch; retransmissions absorbed; timer D', () => {
    const t = testDeps(false);
    const inv = request('INVITE', 'z9hG4bKc', 7);
    const tx = new InviteClientTransaction(inv, 'z9hG4bKc', t.client);
    const got: number[] = [];
    let terminatedAt = -1;
    tx.on('response', (r) => got.push(r.status));
    tx.on('terminated', () => (terminatedAt = t.clock.now()));
    tx.start();
    t.clock.advance(600); // one retransmission at 500
    tx.receive(response(inv, 180, 'Ringing'));
    t.clock.advance(120_000); // ringing for two minutes: no retransmission, no timeout
    assert.equal(t.sent.length, 2);
    assert.equal(tx.state, 'proceeding');

    tx.receive(response(inv, 486, 'Busy Here', 'busytag'));
    assert.equal(tx.state, 'completed');
    const ack = t.sent[2]!;
    assert.equal(ack.line, 'ACK sip:bob@example.com SIP/2.0');
    assert.match(ack.text, /^Via: SIP\/2.0\/UDP 127.0.0.1:5070;branch=z9hG4bKc;rport\r$/m);
    assert.match(ack.text, /^To: <sip:bob@example.com>;tag=busytag\r$/m);
    assert.match(ack.text, /^CSeq: 7 ACK\r$/m);
    assert.match(ack.text, /^Route: <sip:proxy.example.com;lr>\r$/m);

    // A retransmitted 486 is not passed up again but re-ACKed.
    tx.receive(response(inv, 486, 'Busy Here', 'busytag'));
    assert.deepEqual(got, [180, 486]);
    assert.equal(t.sent.length, 4);
    assert.equal(t.sent[3]!.line, 'ACK sip:bob@example.com SIP/2.0');
    assert.equal(t.stats.absorbed, 1);

    const completedAt = t.clock.now();
    t.clock.advance(40_000);
    assert.equal(terminatedAt, completedAt + 32_000);
  });

  test('TCP: timer D is zero', () => {
    const t = testDeps(true);
    const inv = request('INVITE', 'z9hG4bKd');
    const tx = new InviteClientTransaction(inv, 'z9hG4bKd', t.client);
    let terminated = false;
    tx.on('terminated', () => (terminated = true));
    tx.start();
    tx.receive(response(inv, 404, 'Not Found'));
    assert.equal(t.sent.length, 2); // INVITE + ACK
    t.clock.advance(0);
    assert.equal(terminated, true);
  });

  test('2xx: accepted state passes 2xx retransmissions up for 64·T1 and absorbs the rest (RFC 6026)', () => {
    const t = testDeps(false);
    const inv = request('INVITE', 'z9hG4bKe');
    const tx = new InviteClientTransaction(inv, 'z9hG4bKe', t.client);
    const got: number[] = [];
    let terminatedAt = -1;
    tx.on('response', (r) => got.push(r.status));
    tx.on('terminated', () => (terminatedAt = t.clock.now()));
    tx.start();
    tx.receive(response(inv, 100, 'Trying'));
    tx.receive(response(inv, 200, 'OK'));
    assert.equal(tx.state, 'accepted');
    tx.receive(response(inv, 200, 'OK'));
    tx.receive(response(inv, 180, 'Ringing'));
    assert.deepEqual(got, [100, 200, 200]);
    assert.equal(t.sent.length, 1, 'the transaction does not ACK a 2xx');
    t.clock.advance(32_000);
    assert.equal(terminatedAt, 32_000);
  });

  test('transport failure before any response: transportError, terminated', async () => {
    const t = testDeps(false);
    t.failSends();
    const tx = new InviteClientTransaction(request('INVITE', 'z9hG4bKf'), 'z9hG4bKf', t.client);
    const events: string[] = [];
    tx.on('transportError', () => events.push('transportError'));
    tx.on('terminated', () => events.push('terminated'));
    tx.start();
    await flush();
    assert.deepEqual(events, ['transportError', 'terminated']);
    assert.equal(t.clock.pending, 0);
  });
});

describe('non-INVITE client transaction', () => {
  test('UDP: timer E doubles from T1 to T2, timer F times out at 64·T1', () => {
    const t = testDeps(false);
    const tx = new NonInviteClientTransaction(request('REGISTER', 'z9hG4bKg'), 'z9hG4bKg', t.client);
    let timeoutAt = -1;
    tx.on('timeout', () => (timeoutAt = t.clock.now()));
    tx.start();
    t.clock.advance(40_000);
    assert.deepEqual(
      t.sent.map((s) => s.at),
      [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500],
    );
    assert.equal(timeoutAt, 32_000);
    assert.equal(t.stats.retransmissions, 10);
    assert.equal(t.clock.pending, 0);
  });

  test('UDP: in proceeding, timer E fires every T2', () => {
    const t = testDeps(false);
    const req = request('BYE', 'z9hG4bKh');
    const tx = new NonInviteClientTransaction(req, 'z9hG4bKh', t.client);
    tx.start();
    t.clock.advance(600); // retransmission at 500; E now due at 1500
    tx.receive(response(req, 100, 'Trying'));
    assert.equal(tx.state, 'proceeding');
    t.clock.advance(10_000);
    assert.deepEqual(t.sent.map((s) => s.at), [0, 500, 1500, 5500, 9500]);
  });

  test('final response: passed up once, retransmissions absorbed, timer K = T4 over UDP', () => {
    const t = testDeps(false);
    const req = request('INFO', 'z9hG4bKi');
    const tx = new NonInviteClientTransaction(req, 'z9hG4bKi', t.client);
    const got: number[] = [];
    let terminatedAt = -1;
    tx.on('response', (r) => got.push(r.status));
    tx.on('terminated', () => (terminatedAt = t.clock.now()));
    tx.start();
    t.clock.advance(100);
    tx.receive(response(req, 200, 'OK'));
    tx.receive(response(req, 200, 'OK'));
    assert.deepEqual(got, [200]);
    assert.equal(t.stats.absorbed, 1);
    t.clock.advance(10_000);
    assert.equal(terminatedAt, 5_100);
    assert.equal(t.sent.length, 1, 'no retransmission after the final response');
  });

  test('TCP: no retransmission, timeout at 64·T1, timer K zero', () => {
    const t = testDeps(true);
    const tx = new NonInviteClientTransaction(request('OPTIONS', 'z9hG4bKj'), 'z9hG4bKj', t.client);
    let timeoutAt = -1;
    tx.on('timeout', () => (timeoutAt = t.clock.now()));
    tx.start();
    t.clock.advance(40_000);
    assert.equal(t.sent.length, 1);
    assert.equal(timeoutAt, 32_000);

    const t2 = testDeps(true);
    const req = request('OPTIONS', 'z9hG4bKk');
    const tx2 = new NonInviteClientTransaction(req, 'z9hG4bKk', t2.client);
    let terminated = false;
    tx2.on('terminated', () => (terminated = true));
    tx2.start();
    tx2.receive(response(req, 200, 'OK'));
    t2.clock.advance(0);
    assert.equal(terminated, true);
  });

  test('transport failure: transportError, terminated', async () => {
    const t = testDeps(true);
    t.failSends();
    const tx = new NonInviteClientTransaction(request('REGISTER', 'z9hG4bKl'), 'z9hG4bKl', t.client);
    const events: string[] = [];
    tx.on('transportError', () => events.push('transportError'));
    tx.on('terminated', () => events.push('terminated'));
    tx.start();
    await flush();
    assert.deepEqual(events, ['transportError', 'terminated']);
  });
});
