import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  computeDigestResponse,
  getParam,
  parseDigestCredentials,
  parseNameAddr,
  parseVia,
  type DigestAlgorithm,
  type SipMessage,
  type SipRequest,
} from '../message/index.js';
import { Logger } from '../../util/Logger.js';
import { FakeClock } from '../transaction/FakeClock.js';
import { ScriptedPeer, type Received } from './fixtures/ScriptedPeer.js';
import type { SipAccountConfig } from './SipAccountConfig.js';
import type { SipClientCall } from './SipClientCall.js';
import { SipRequestError } from './SipRequestError.js';
import { SipUserAgent } from './SipUserAgent.js';

const log = new Logger(process.env.SIP_TEST_LOG === '1' ? 'debug' : 'silent');
const SDP_OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const SDP_ANSWER = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\n';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

async function setup(o: { clock?: FakeClock } = {}): Promise<{ ua: SipUserAgent; peer: ScriptedPeer; account: SipAccountConfig }> {
  const peer = await ScriptedPeer.create();
  const ua = await SipUserAgent.create({ log, userAgent: 'sipcast-test', ...(o.clock ? { clock: o.clock } : {}) });
  cleanups.push(async () => {
    // Calls a test left up are hung up by close(); answer their BYEs so close() need not wait.
    peer.auto((r) => r.msg.method === 'BYE' && (peer.respond(r, 200, 'OK'), true));
    await ua.close();
    await peer.close();
  });
  const account: SipAccountConfig = { login: 'alice', password: 'p:a;s"s\\@ü', domain: `127.0.0.1:${peer.port}`, transport: 'udp', displayName: 'Alice A.' };
  return { ua, peer, account };
}

/** Collects a call's events as strings, awaitable. */
function watch(call: SipClientCall): { events: string[]; until(pred: (e: string) => boolean, ms?: number): Promise<string> } {
  const events: string[] = [];
  const waiters: Array<() => void> = [];
  const push = (e: string): void => {
    events.push(e);
    for (const w of waiters.splice(0)) w();
  };
  call.on('provisional', (s, r, sdp) => push(`provisional ${s} ${r}${sdp ? ' +sdp' : ''}`));
  call.on('accepted', (sdp) => push(`accepted ${sdp === SDP_ANSWER ? 'answer' : JSON.stringify(sdp)}`));
  call.on('rejected', (e) => push(`rejected ${e.status} ${e.reason}`));
  call.on('terminated', (by, reason) => push(`terminated ${by} ${reason}`));
  call.on('info', (type, body) => push(`info ${type} ${body}`));
  return {
    events,
    async until(pred, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = events.find(pred);
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) throw new Error(`event not seen; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, deadline - Date.now());
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}

function tagOf(value: string | undefined): string | undefined {
  return getParam(parseNameAddr(value ?? '').params, 'tag')?.value ?? undefined;
}

function header(m: SipMessage, name: string): string {
  return m.headers.get(name) ?? '';
}

/** Checks Digest credentials in `value` the way a registrar would. */
function verifyDigest(value: string, o: { method: string; password: string; username: string; realm: string; nonce: string }): void {
  const c = parseDigestCredentials(value);
  assert.equal(c.username, o.username);
  assert.equal(c.realm, o.realm);
  assert.equal(c.nonce, o.nonce);
  assert.equal(c.qop, 'auth');
  assert.match(c.nc ?? '', /^[0-9a-f]{8}$/);
  assert.ok((c.cnonce ?? '').length >= 8);
  const expected = computeDigestResponse({
    algorithm: c.algorithm as DigestAlgorithm,
    username: o.username,
    password: o.password,
    realm: o.realm,
    nonce: o.nonce,
    method: o.method,
    uri: c.uri,
    qop: 'auth',
    cnonce: c.cnonce!,
    nc: c.nc!,
  });
  assert.equal(c.response, expected);
}

/** Runs INVITE → 100/180/200 on the peer; returns the INVITE and the tag used. */
async function answer(peer: ScriptedPeer, o: { recordRoute?: string[]; contact?: string } = {}): Promise<{ inv: Received<SipRequest>; tag: string }> {
  const inv = await peer.nextRequest('INVITE');
  const tag = 'uas1';
  peer.respond(inv, 100, 'Trying');
  peer.respond(inv, 180, 'Ringing', { toTag: tag });
  const headers: Array<[string, string]> = [['Contact', o.contact ?? `<sip:bob@127.0.0.1:${peer.port}>`]];
  for (const rr of o.recordRoute ?? []) headers.push(['Record-Route', rr]);
  peer.respond(inv, 200, 'OK', { toTag: tag, headers, body: SDP_ANSWER, contentType: 'application/sdp' });
  return { inv, tag };
}

describe('SipUserAgent against a scripted UAS (UDP loopback)', () => {
  test('INVITE: headers, 100/180/200 with SDP, ACK, 2xx retransmission re-ACKed, BYE from us', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER, headers: { 'X-Sipcast-Stream': 'cam1', 'Call-ID': 'ignored' } });
    const w = watch(call);
    assert.equal(call.state, 'calling');

    const inv = await peer.nextRequest('INVITE');
    const m = inv.msg;
    assert.equal(m.uri, `sip:bob@127.0.0.1:${peer.port}`);
    assert.equal(header(m, 'To'), `<sip:bob@127.0.0.1:${peer.port}>`);
    assert.match(header(m, 'From'), new RegExp(`^"Alice A\\." <sip:alice@127\\.0\\.0\\.1:${peer.port}>;tag=[0-9a-f]+$`));
    assert.equal(header(m, 'Contact'), `<sip:alice@127.0.0.1:${ua.port}>`);
    assert.equal(header(m, 'Max-Forwards'), '70');
    assert.equal(header(m, 'CSeq'), '1 INVITE');
    assert.equal(header(m, 'Call-ID'), call.callId);
    assert.equal(header(m, 'Content-Type'), 'application/sdp');
    assert.equal(header(m, 'X-Sipcast-Stream'), 'cam1');
    assert.deepEqual(m.headers.getAll('Allow'), ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO']);
    assert.equal(m.body.toString(), SDP_OFFER);
    const via = parseVia(header(m, 'Via'));
    assert.match(via.branch ?? '', /^z9hG4bK.{8,}/);
    assert.equal(via.rport, true);
    assert.equal(via.port, ua.port);

    peer.respond(inv, 100, 'Trying');
    peer.respond(inv, 180, 'Ringing', { toTag: 'uas1' });
    await w.until((e) => e.startsWith('provisional 180'));
    assert.equal(call.state, 'early');
    peer.respond(inv, 183, 'Session Progress', { toTag: 'uas1', body: SDP_ANSWER, contentType: 'application/sdp' });
    const ok = peer.respond(inv, 200, 'OK', { toTag: 'uas1', headers: [['Contact', `<sip:bob@127.0.0.1:${peer.port}>`]], body: SDP_ANSWER, contentType: 'application/sdp' });
    await w.until((e) => e.startsWith('accepted'));
    assert.equal(call.state, 'confirmed');
    assert.deepEqual(w.events, ['provisional 100 Trying', 'provisional 180 Ringing', 'provisional 183 Session Progress +sdp', 'accepted answer']);

    const ack = (await peer.nextRequest('ACK')).msg;
    assert.equal(ack.uri, `sip:bob@127.0.0.1:${peer.port}`);
    assert.equal(header(ack, 'CSeq'), '1 ACK');
    assert.equal(tagOf(header(ack, 'To')), 'uas1');
    assert.notEqual(parseVia(header(ack, 'Via')).branch, via.branch, 'the ACK of a 2xx is a new transaction');

    peer.send(ok, inv.port); // 200 retransmitted: the ACK was "lost"
    const ack2 = (await peer.nextRequest('ACK')).msg;
    assert.equal(header(ack2, 'Via'), header(ack, 'Via'), 'the same ACK is sent again');
    assert.equal(w.events.filter((e) => e.startsWith('accepted')).length, 1);

    call.hangup();
    const bye = await peer.nextRequest('BYE');
    assert.equal(header(bye.msg, 'CSeq'), '2 BYE');
    assert.equal(bye.msg.uri, `sip:bob@127.0.0.1:${peer.port}`);
    assert.equal(w.events.some((e) => e.startsWith('terminated')), false, 'terminated follows the BYE response');
    peer.respond(bye, 200, 'OK');
    assert.equal(await w.until((e) => e.startsWith('terminated')), 'terminated local hangup');
    assert.equal(call.state, 'terminated');
  });

  test('BYE from the callee: answered 200, terminated remote; INFO both ways; OPTIONS in dialog', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    const { inv, tag } = await answer(peer);
    await w.until((e) => e.startsWith('accepted'));
    await peer.nextRequest('ACK');

    peer.send(peer.dialogRequest(inv.msg, tag, 'INFO', 1, { body: '<media_control/>', contentType: 'application/media_control+xml' }), ua.port);
    assert.equal((await peer.nextResponse('INFO')).msg.status, 200);
    assert.equal(await w.until((e) => e.startsWith('info')), 'info application/media_control+xml <media_control/>');

    const infoDone = call.sendInfo('application/media_control+xml', '<picture_fast_update/>');
    const info = await peer.nextRequest('INFO');
    assert.equal(header(info.msg, 'CSeq'), '2 INFO');
    assert.equal(header(info.msg, 'Content-Type'), 'application/media_control+xml');
    assert.equal(info.msg.body.toString(), '<picture_fast_update/>');
    peer.respond(info, 200, 'OK');
    assert.equal(await infoDone, 200);

    peer.send(peer.dialogRequest(inv.msg, tag, 'OPTIONS', 2), ua.port);
    assert.equal((await peer.nextResponse('OPTIONS')).msg.status, 200);
    peer.send(peer.dialogRequest(inv.msg, tag, 'UPDATE', 3), ua.port);
    assert.equal((await peer.nextResponse('UPDATE')).msg.status, 405);
    // An out-of-order CSeq is refused (§12.2.2).
    peer.send(peer.dialogRequest(inv.msg, tag, 'INFO', 2), ua.port);
    assert.equal((await peer.nextResponse('INFO')).msg.status, 500);

    const bye = peer.dialogRequest(inv.msg, tag, 'BYE', 10);
    peer.send(bye, ua.port);
    assert.equal((await peer.nextResponse('BYE')).msg.status, 200);
    assert.equal(await w.until((e) => e.startsWith('terminated')), 'terminated remote BYE');
    peer.send(bye, ua.port); // retransmitted BYE: the transaction answers again
    assert.equal((await peer.nextResponse('BYE')).msg.status, 200);
    await assert.rejects(call.sendInfo('text/plain', 'x'), (e: SipRequestError) => e.status === 481);
  });

  test('hangup before any response: CANCEL waits for a 1xx, then 487 is ACKed and the call terminates', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    const inv = await peer.nextRequest('INVITE');
    call.hangup();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(peer.all((m) => m.kind === 'request' && m.method === 'CANCEL').length, 0, 'no CANCEL before a provisional (§9.1)');
    peer.respond(inv, 180, 'Ringing', { toTag: 'uas2' });
    const cancel = await peer.nextRequest('CANCEL');
    assert.equal(cancel.msg.uri, inv.msg.uri);
    assert.equal(header(cancel.msg, 'CSeq'), '1 CANCEL');
    assert.equal(header(cancel.msg, 'Via'), header(inv.msg, 'Via'), 'CANCEL has the INVITE branch');
    assert.equal(header(cancel.msg, 'To'), header(inv.msg, 'To'));
    peer.respond(cancel, 200, 'OK');
    peer.respond(inv, 487, 'Request Terminated', { toTag: 'uas2' });
    const ack = await peer.nextRequest('ACK');
    assert.equal(header(ack.msg, 'Via'), header(inv.msg, 'Via'), 'ACK of a non-2xx reuses the INVITE branch');
    assert.equal(header(ack.msg, 'CSeq'), '1 ACK');
    assert.match(await w.until((e) => e.startsWith('terminated')), /^terminated local cancelled/);
    assert.equal(w.events.some((e) => e.startsWith('rejected')), false);
  });

  test('CANCEL losing the race against 200: ACK, then BYE', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    const inv = await peer.nextRequest('INVITE');
    peer.respond(inv, 180, 'Ringing', { toTag: 'uas3' });
    await w.until((e) => e.startsWith('provisional 180'));
    call.hangup();
    const cancel = await peer.nextRequest('CANCEL');
    peer.respond(cancel, 481, 'Call/Transaction Does Not Exist');
    peer.respond(inv, 200, 'OK', { toTag: 'uas3', headers: [['Contact', `<sip:bob@127.0.0.1:${peer.port}>`]], body: SDP_ANSWER, contentType: 'application/sdp' });
    await peer.nextRequest('ACK');
    const bye = await peer.nextRequest('BYE');
    peer.respond(bye, 200, 'OK');
    assert.match(await w.until((e) => e.startsWith('terminated')), /^terminated local/);
    assert.equal(w.events.some((e) => e.startsWith('accepted')), false);
  });

  test('486 Busy Here: rejected 486, ACKed', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account, target: 'sip:carol@127.0.0.1:' + String(peer.port), sdp: SDP_OFFER });
    const w = watch(call);
    const inv = await peer.nextRequest('INVITE');
    assert.equal(inv.msg.uri, `sip:carol@127.0.0.1:${peer.port}`);
    peer.respond(inv, 486, 'Busy Here', { toTag: 'busy' });
    await peer.nextRequest('ACK');
    assert.equal(await w.until((e) => e.startsWith('rejected')), 'rejected 486 Busy Here');
    assert.equal(call.state, 'terminated');
  });

  test('407 with qop=auth: ACK, retry with Proxy-Authorization (new CSeq, same Call-ID and From tag), then 200', async () => {
    const { ua, peer, account } = await setup();
    const acct = { ...account, authName: 'alice-auth' };
    const call = ua.invite({ account: acct, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    const inv1 = await peer.nextRequest('INVITE');
    peer.respond(inv1, 407, 'Proxy Authentication Required', {
      headers: [['Proxy-Authenticate', 'Digest realm="spike", nonce="n0nce1", qop="auth", opaque="op4que", algorithm=MD5']],
    });
    await peer.nextRequest('ACK');
    const inv2 = await peer.nextRequest('INVITE');
    assert.equal(header(inv2.msg, 'CSeq'), '2 INVITE');
    assert.equal(header(inv2.msg, 'Call-ID'), header(inv1.msg, 'Call-ID'));
    assert.equal(tagOf(header(inv2.msg, 'From')), tagOf(header(inv1.msg, 'From')));
    assert.notEqual(parseVia(header(inv2.msg, 'Via')).branch, parseVia(header(inv1.msg, 'Via')).branch);
    const pa = header(inv2.msg, 'Proxy-Authorization');
    assert.match(pa, /opaque="op4que"/);
    verifyDigest(pa, { method: 'INVITE', username: 'alice-auth', password: acct.password!, realm: 'spike', nonce: 'n0nce1' });
    assert.match(header(inv2.msg, 'From'), /<sip:alice@/, 'the From user stays the login');
    peer.respond(inv2, 200, 'OK', { toTag: 'ok', headers: [['Contact', `<sip:bob@127.0.0.1:${peer.port}>`]], body: SDP_ANSWER, contentType: 'application/sdp' });
    await w.until((e) => e.startsWith('accepted'));
    const ack = await peer.nextRequest('ACK');
    assert.equal(header(ack.msg, 'CSeq'), '2 ACK');
    assert.equal(header(ack.msg, 'Proxy-Authorization'), pa, 'the 2xx ACK carries the INVITE credentials');
  });

  test('challenge answered with credentials again (wrong password) and malformed challenges: rejected with the challenge status', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    for (let i = 0; i < 2; i++) {
      const inv = await peer.nextRequest('INVITE');
      peer.respond(inv, 407, 'Proxy Authentication Required', { headers: [['Proxy-Authenticate', `Digest realm="spike", nonce="n${i}", qop="auth"`]] });
    }
    assert.equal(await w.until((e) => e.startsWith('rejected')), 'rejected 407 Proxy Authentication Required');

    const call2 = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w2 = watch(call2);
    const inv = await peer.nextRequest('INVITE');
    peer.respond(inv, 407, 'Proxy Authentication Required'); // no Proxy-Authenticate at all
    assert.equal(await w2.until((e) => e.startsWith('rejected')), 'rejected 407 Proxy Authentication Required');

    const call3 = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w3 = watch(call3);
    const inv3 = await peer.nextRequest('INVITE');
    peer.respond(inv3, 401, 'Unauthorized', { headers: [['WWW-Authenticate', 'Digest realm="spike", qop="auth"']] }); // no nonce
    assert.equal(await w3.until((e) => e.startsWith('rejected')), 'rejected 401 Unauthorized');

    // Bad input fails the call cleanly: a Call-ID in use, a header value with CR/LF.
    const live = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const liveInv = await peer.nextRequest('INVITE');
    const dupCall = ua.invite({ account, target: 'bob', sdp: SDP_OFFER, callId: live.callId });
    const dupErr = new Promise<SipRequestError>((resolve) => dupCall.on('rejected', resolve));
    const dup = watch(dupCall);
    const crlf = watch(ua.invite({ account, target: 'bob', sdp: SDP_OFFER, headers: { 'X-Evil': 'a\r\nVia: x' } }));
    assert.match(await dup.until((e) => e.startsWith('rejected')), /^rejected 400/);
    assert.match((await dupErr).message, /Call-ID already in use/);
    assert.equal(live.state, 'calling', 'the live call is untouched');
    live.hangup();
    peer.respond(liveInv, 480, 'Temporarily Unavailable');
    assert.match(await crlf.until((e) => e.startsWith('rejected')), /^rejected 400/);

    const call4 = ua.invite({ account: { ...account, password: undefined }, target: 'bob', sdp: SDP_OFFER });
    const w4 = watch(call4);
    const inv4 = await peer.nextRequest('INVITE');
    peer.respond(inv4, 407, 'Proxy Authentication Required', { headers: [['Proxy-Authenticate', 'Digest realm="spike", nonce="x", qop="auth"']] });
    assert.equal(await w4.until((e) => e.startsWith('rejected')), 'rejected 407 Proxy Authentication Required');
  });

  test('REGISTER: 401 qop=auth → credentials → 200; granted expiry from Contact; refresh; unregister with Expires: 0', async () => {
    const clock = new FakeClock();
    const { ua, peer, account } = await setup({ clock });
    const registered = ua.register({ ...account, authName: 'alice-auth' }, 300);
    const r1 = await peer.nextRequest('REGISTER');
    assert.equal(r1.msg.uri, `sip:127.0.0.1:${peer.port}`);
    assert.equal(header(r1.msg, 'Expires'), '300');
    assert.equal(header(r1.msg, 'To'), `<sip:alice@127.0.0.1:${peer.port}>`);
    assert.equal(header(r1.msg, 'Contact'), `<sip:alice@127.0.0.1:${ua.port}>`);
    peer.respond(r1, 401, 'Unauthorized', { headers: [['WWW-Authenticate', 'Digest realm="spike", nonce="abc", qop="auth", algorithm=MD5']] });
    const r2 = await peer.nextRequest('REGISTER');
    assert.equal(header(r2.msg, 'CSeq'), '2 REGISTER');
    assert.equal(header(r2.msg, 'Call-ID'), header(r1.msg, 'Call-ID'));
    verifyDigest(header(r2.msg, 'Authorization'), { method: 'REGISTER', username: 'alice-auth', password: account.password!, realm: 'spike', nonce: 'abc' });
    peer.respond(r2, 200, 'OK', { headers: [['Contact', `<sip:other@192.0.2.1>;expires=3000`], ['Contact', `<sip:alice@127.0.0.1:${ua.port}>;expires=120`]] });
    const reg = await registered;
    assert.equal(reg.expires, 120);

    clock.advance(95_000); // 80 % of 120 s = 96 s
    assert.equal(peer.all((m) => m.kind === 'request' && m.method === 'REGISTER').length, 2);
    clock.advance(1_000);
    const r3 = await peer.nextRequest('REGISTER');
    assert.equal(header(r3.msg, 'CSeq'), '3 REGISTER');
    peer.respond(r3, 401, 'Unauthorized', { headers: [['WWW-Authenticate', 'Digest realm="spike", nonce="def", qop="auth"']] });
    const r4 = await peer.nextRequest('REGISTER');
    peer.respond(r4, 200, 'OK', { headers: [['Expires', '60']] });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(reg.expires, 60);

    const gone = reg.unregister();
    const r5 = await peer.nextRequest('REGISTER');
    assert.equal(header(r5.msg, 'Expires'), '0');
    peer.respond(r5, 200, 'OK');
    await gone;
    clock.advance(600_000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(peer.all((m) => m.kind === 'request' && m.method === 'REGISTER').length, 5, 'no refresh after unregister');
  });

  test('REGISTER: wrong credentials → SipRequestError 401 (password not in the message); refresh failure emits refreshFailed', async () => {
    const clock = new FakeClock();
    const { ua, peer, account } = await setup({ clock });
    peer.auto((r) => {
      if (r.msg.method !== 'REGISTER') return false;
      const auth = r.msg.headers.get('Authorization');
      if (auth === undefined || !auth.includes('nonce="good"')) {
        peer.respond(r, 401, 'Unauthorized', { headers: [['WWW-Authenticate', 'Digest realm="spike", nonce="good", qop="auth"']] });
      } else if (account.password === 'x' || auth.includes('username="mallory"')) {
        peer.respond(r, 401, 'Unauthorized', { headers: [['WWW-Authenticate', 'Digest realm="spike", nonce="good2", qop="auth"']] });
      } else {
        peer.respond(r, 200, 'OK', { headers: [['Expires', '10']] });
      }
      return true;
    });
    await assert.rejects(ua.register({ ...account, login: 'mallory' }), (e: unknown) => e instanceof SipRequestError && e.status === 401 && !e.message.includes(account.password!));

    const reg = await ua.register(account, 10);
    assert.equal(reg.expires, 10);
    const failures: number[] = [];
    reg.on('refreshFailed', (e) => failures.push(e.status));
    account.password = 'x'; // the registrar now refuses us (the object is shared by reference)
    clock.advance(8_000);
    for (let i = 0; i < 50 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(failures, [401]);
    await assert.rejects(reg.unregister(), (e: unknown) => e instanceof SipRequestError && e.status === 401);
    assert.equal(ua.counters.activeRegistrations, 0);
  });

  test('timeout: INVITE retransmitted per timer A, rejected 408 at 64·T1; REGISTER rejected 408', async () => {
    const clock = new FakeClock();
    const { ua, peer, account } = await setup({ clock });
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    await peer.nextRequest('INVITE');
    for (const step of [500, 1000, 2000, 4000, 8000, 16000]) {
      clock.advance(step);
      await peer.nextRequest('INVITE');
    }
    clock.advance(500);
    assert.equal(await w.until((e) => e.startsWith('rejected')), 'rejected 408 Request Timeout');
    assert.equal(peer.all((m) => m.kind === 'request' && m.method === 'INVITE').length, 7);

    const reg = ua.register(account);
    await peer.nextRequest('REGISTER');
    clock.advance(32_000);
    await assert.rejects(reg, (e: unknown) => e instanceof SipRequestError && e.status === 408);
  });

  test('transport error: TCP to a closed port → rejected 503; unresolvable proxy → 503', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account: { ...account, transport: 'tcp', domain: '127.0.0.1', port: 9 }, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    assert.equal(await w.until((e) => e.startsWith('rejected')), 'rejected 503 Service Unavailable');
    const call2 = ua.invite({ account: { ...account, outboundProxy: 'no-such-host.invalid' }, target: 'bob', sdp: SDP_OFFER });
    const w2 = watch(call2);
    assert.equal(await w2.until((e) => e.startsWith('rejected'), 15_000), 'rejected 503 Service Unavailable');
    assert.equal(peer.log.length, 0);
  });

  test('Record-Route: ACK/BYE carry the reversed route set and go to the first route; outbound proxy keeps the Request-URI', async () => {
    const { ua, peer, account } = await setup();
    const proxy = await ScriptedPeer.create();
    cleanups.push(() => proxy.close());
    // The "proxy" is a second scripted peer; the UAS records two routes, the nearest last.
    const acct = { ...account, domain: 'example.com', outboundProxy: `127.0.0.1:${proxy.port}` };
    const call = ua.invite({ account: acct, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    const inv = await proxy.nextRequest('INVITE');
    assert.equal(inv.msg.uri, 'sip:bob@example.com');
    assert.equal(inv.msg.headers.getAll('Route').length, 0, 'no Route header for a loose-routing first hop');
    const rr = [`<sip:far.example.com;lr;x=1>`, `<sip:127.0.0.1:${proxy.port};lr;ftag=abc>`];
    proxy.respond(inv, 200, 'OK', { toTag: 't', headers: [['Contact', '<sip:bob@192.0.2.7:5062>'], ...rr.map((v): [string, string] => ['Record-Route', v])], body: SDP_ANSWER, contentType: 'application/sdp' });
    await w.until((e) => e.startsWith('accepted'));
    const ack = await proxy.nextRequest('ACK');
    assert.equal(ack.msg.uri, 'sip:bob@192.0.2.7:5062');
    assert.deepEqual(ack.msg.headers.getAll('Route'), [...rr].reverse());
    call.hangup();
    const bye = await proxy.nextRequest('BYE');
    assert.deepEqual(bye.msg.headers.getAll('Route'), [...rr].reverse());
    proxy.respond(bye, 200, 'OK');
    await w.until((e) => e.startsWith('terminated'));
    assert.equal(peer.log.length, 0);
  });

  test('singleRouteOnly: Record-Route ignored, in-dialog requests go to the proxy with one Route to it', async () => {
    const { ua, peer, account } = await setup();
    const acct = { ...account, domain: 'example.com', outboundProxy: `127.0.0.1:${peer.port}` };
    const call = ua.invite({ account: acct, target: 'bob', sdp: SDP_OFFER, singleRouteOnly: true });
    const w = watch(call);
    const inv = await peer.nextRequest('INVITE');
    peer.respond(inv, 200, 'OK', { toTag: 't', headers: [['Contact', '<sip:bob@192.0.2.7:5062>'], ['Record-Route', '<sip:192.0.2.99;lr>']], body: SDP_ANSWER, contentType: 'application/sdp' });
    await w.until((e) => e.startsWith('accepted'));
    const ack = await peer.nextRequest('ACK');
    assert.equal(ack.msg.uri, 'sip:bob@192.0.2.7:5062');
    assert.deepEqual(ack.msg.headers.getAll('Route'), [`<sip:127.0.0.1:${peer.port};lr>`]);
    const info = call.sendInfo('text/plain', 'hi');
    const req = await peer.nextRequest('INFO');
    peer.respond(req, 200, 'OK');
    assert.equal(await info, 200);
  });

  test('re-INVITE from the callee: answered with our SDP (200, retransmitted until ACK) or 488', async () => {
    const { ua, peer, account } = await setup();
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    const offers: string[] = [];
    let answerWith: string | null = 'v=0\r\nanswer-2\r\n';
    call.on('reinvite', (sdp, respond) => {
      offers.push(sdp);
      respond(answerWith);
    });
    const { inv, tag } = await answer(peer);
    await w.until((e) => e.startsWith('accepted'));
    await peer.nextRequest('ACK');

    const re = peer.dialogRequest(inv.msg, tag, 'INVITE', 5, { body: 'v=0\r\nreoffer\r\n' });
    peer.send(re, ua.port);
    const ok = await peer.nextResponse('INVITE');
    assert.equal(ok.msg.status, 200);
    assert.equal(ok.msg.body.toString(), 'v=0\r\nanswer-2\r\n');
    assert.equal(header(ok.msg, 'Content-Type'), 'application/sdp');
    assert.equal(tagOf(header(ok.msg, 'To')), tagOf(header(inv.msg, 'From')));
    assert.deepEqual(offers, ['v=0\r\nreoffer\r\n']);
    // No ACK yet: timer G sends the 200 again.
    assert.equal((await peer.nextResponse('INVITE', 2000)).msg.status, 200);
    const ack = peer.dialogRequest(inv.msg, tag, 'ACK', 5);
    peer.send(ack, ua.port);
    await new Promise((r) => setTimeout(r, 1200));
    const count = peer.all((m) => m.kind === 'response' && header(m, 'CSeq') === '5 INVITE').length;
    assert.ok(count >= 2 && count <= 3, `200 retransmitted until the ACK (${count})`);

    answerWith = null;
    peer.send(peer.dialogRequest(inv.msg, tag, 'INVITE', 6, { body: 'v=0\r\nbad\r\n' }), ua.port);
    const no = await peer.next((m) => m.kind === 'response' && header(m, 'CSeq') === '6 INVITE' && (m as { status: number }).status >= 200);
    assert.equal((no.msg as { status: number }).status, 488);
    await peer.nextRequest('ACK', 100).catch(() => undefined);
    assert.equal(call.state, 'confirmed');
  });

  test('requests outside a dialog: OPTIONS 200, MESSAGE 405, unknown tag 481, unknown method 501; garbage is survived', async () => {
    const { ua, peer } = await setup();
    const req = (method: string, toTag?: string): string =>
      [
        `${method} sip:alice@127.0.0.1:${ua.port} SIP/2.0`,
        `Via: ${peer.via()}`,
        'Max-Forwards: 70',
        'From: <sip:x@127.0.0.1>;tag=f',
        `To: <sip:alice@127.0.0.1>${toTag ? `;tag=${toTag}` : ''}`,
        `Call-ID: out-${method}`,
        `CSeq: 1 ${method}`,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    peer.send(req('OPTIONS'), ua.port);
    const opt = await peer.nextResponse('OPTIONS');
    assert.equal(opt.msg.status, 200);
    assert.ok(opt.msg.headers.getAll('Allow').includes('INFO'));
    peer.send(req('MESSAGE'), ua.port);
    assert.equal((await peer.nextResponse('MESSAGE')).msg.status, 405);
    peer.send(req('BYE', 'nope'), ua.port);
    assert.equal((await peer.nextResponse('BYE')).msg.status, 481);
    peer.send(req('FROB'), ua.port);
    assert.equal((await peer.nextResponse('FROB')).msg.status, 501);
    peer.send(req('CANCEL'), ua.port);
    assert.equal((await peer.nextResponse('CANCEL')).msg.status, 481);

    peer.send(Buffer.from('\x00\x01garbage\r\n\r\n'), ua.port);
    peer.send(req('OPTIONS').replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE'), ua.port);
    const bad = await peer.next((m) => m.kind === 'response' && (m as { status: number }).status === 400);
    assert.equal((bad.msg as { reason: string }).reason, 'CSeq Method Mismatch');
    peer.send(req('OPTIONS').replace('Call-ID: out-OPTIONS', 'Call-ID: again'), ua.port);
    assert.equal((await peer.nextResponse('OPTIONS')).msg.status, 200);
    const c = ua.counters;
    assert.equal(c.transport.badRequestsAnswered, 1);
    assert.equal(c.transport.badMessagesDropped, 1);
  });

  test('close(): live calls are hung up, registrations removed, nothing keeps running', async () => {
    const { ua, peer, account } = await setup();
    peer.auto((r) => {
      if (r.msg.method === 'REGISTER') {
        peer.respond(r, 200, 'OK');
        return true;
      }
      if (r.msg.method === 'BYE') {
        peer.respond(r, 200, 'OK');
        return true;
      }
      return false;
    });
    await ua.register(account, 600);
    const call = ua.invite({ account, target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    await answer(peer);
    await w.until((e) => e.startsWith('accepted'));
    await ua.close();
    assert.match(w.events.at(-1) ?? '', /^terminated local/);
    assert.equal(ua.counters.activeRegistrations, 0);
    assert.equal(ua.counters.transactions.clientTransactions, 0);
    // A closed user agent refuses new work with 503 instead of throwing.
    const late = watch(ua.invite({ account, target: 'bob', sdp: SDP_OFFER }));
    assert.equal(await late.until((e) => e.startsWith('rejected')), 'rejected 503 Service Unavailable');
    await assert.rejects(ua.register(account), (e: unknown) => e instanceof SipRequestError && e.status === 503);
  });
});
