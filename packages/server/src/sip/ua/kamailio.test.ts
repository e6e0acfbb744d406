/**
 * Integration test against a real Kamailio 5.6 (registrar + record-routing auth proxy, realm
 * "spike", users alice/secret1, bob/secret2, carol/secret3), started here on 127.0.0.1:25060
 * with fixtures/kamailio.cfg and stopped afterwards. Skipped only when /usr/sbin/kamailio is
 * not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DigestClient, SipHeaders, type SipHeader, type SipRequest, type SipResponse } from '../message/index.js';
import { Logger } from '../../util/Logger.js';
import { ScriptedPeer, type Received } from './fixtures/ScriptedPeer.js';
import type { SipAccountConfig } from './SipAccountConfig.js';
import type { SipClientCall } from './SipClientCall.js';
import { SipRequestError } from './SipRequestError.js';
import { SipUserAgent } from './SipUserAgent.js';

const KAMAILIO = '/usr/sbin/kamailio';
const PORT = 25060;
const CFG = fileURLToPath(new URL('./fixtures/kamailio.cfg', import.meta.url));
const log = new Logger(process.env.SIP_TEST_LOG === '1' ? 'debug' : 'silent');
const SDP_OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const SDP_ANSWER = 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\n';

const alice = (transport: 'udp' | 'tcp', password = 'secret1'): SipAccountConfig => ({
  login: 'alice',
  password,
  domain: '127.0.0.1',
  port: PORT,
  transport,
  displayName: 'Alice',
});

/** Kamailio in the foreground (-DD -E) with its stderr collected. */
class Kamailio {
  #proc: ChildProcess | undefined;
  #runDir = '';
  #log = '';

  get log(): string {
    return this.#log;
  }

  /** Lines of the log added after `mark` (a length of {@link log}). */
  since(mark: number): string {
    return this.#log.slice(mark);
  }

  /**
   * Waits until every pattern matches the log written since `mark`. Kamailio's workers are
   * separate processes, so their lines can trail the SIP response we already got.
   */
  async expectLog(mark: number, ...patterns: RegExp[]): Promise<void> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const missing = patterns.filter((p) => !p.test(this.since(mark)));
      if (missing.length === 0) return;
      if (Date.now() > deadline) assert.fail(`kamailio log lacks ${missing.join(', ')}:\n${this.since(mark)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async start(): Promise<void> {
    this.#runDir = await mkdtemp(join(tmpdir(), 'sipcast-kamailio-'));
    const proc = spawn(KAMAILIO, ['-f', CFG, '-DD', '-E', '-m', '64', '-M', '8', '-Y', this.#runDir, '-P', join(this.#runDir, 'kamailio.pid')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.#log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (this.#log += d.toString()));
    let exited = false;
    proc.once('exit', () => (exited = true));
    const deadline = Date.now() + 15_000;
    while (!(await this.#tcpReady())) {
      if (exited) throw new Error(`kamailio exited during startup:\n${this.#log.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`kamailio did not listen on ${PORT}:\n${this.#log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // TCP listening means the UDP workers were forked before; give them a moment to settle.
    await new Promise((r) => setTimeout(r, 300));
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exit = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    if (this.#runDir) await rm(this.#runDir, { recursive: true, force: true });
  }

  #tcpReady(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port: PORT });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  }
}

/** Awaitable event log of a call. */
function watch(call: SipClientCall): { events: string[]; until(prefix: string, ms?: number): Promise<string> } {
  const events: string[] = [];
  call.on('provisional', (s, r) => events.push(`provisional ${s} ${r}`));
  call.on('accepted', (sdp) => events.push(`accepted ${sdp === SDP_ANSWER ? 'answer' : 'other'}`));
  call.on('rejected', (e) => events.push(`rejected ${e.status} ${e.reason}`));
  call.on('terminated', (by, reason) => events.push(`terminated ${by} ${reason}`));
  return {
    events,
    async until(prefix, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = events.find((e) => e.startsWith(prefix));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) throw new Error(`no "${prefix}" event; got ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/**
 * "carol": a scripted UDP UAS that registers itself at kamailio (401 → digest → 200) and
 * auto-answers INVITEs with 180 and 200 (copying Record-Route), answers BYE and INFO with 200.
 */
class Carol {
  readonly peer: ScriptedPeer;
  readonly invites: Array<Received<SipRequest>> = [];
  readonly acks: Array<Received<SipRequest>> = [];
  readonly byes: Array<Received<SipRequest>> = [];
  readonly infos: Array<Received<SipRequest>> = [];
  readonly tag = 'carol-tag';

  private constructor(peer: ScriptedPeer) {
    this.peer = peer;
    peer.auto((r) => {
      const m = r.msg;
      if (m.method === 'INVITE') {
        this.invites.push(r);
        peer.respond(r, 180, 'Ringing', { toTag: this.tag, copyRecordRoute: true, headers: [['Contact', this.contact]] });
        // Kamailio relays with several workers: answer a little later so 180 stays ahead of 200.
        setTimeout(
          () =>
            peer.respond(r, 200, 'OK', {
              toTag: this.tag,
              copyRecordRoute: true,
              headers: [['Contact', this.contact]],
              body: SDP_ANSWER,
              contentType: 'application/sdp',
            }),
          50,
        );
        return true;
      }
      if (m.method === 'ACK') {
        this.acks.push(r);
        return true;
      }
      if (m.method === 'BYE' || m.method === 'INFO') {
        (m.method === 'BYE' ? this.byes : this.infos).push(r);
        peer.respond(r, 200, 'OK');
        return true;
      }
      return false;
    });
  }

  get contact(): string {
    return `<sip:carol@127.0.0.1:${this.peer.port}>`;
  }

  static async create(): Promise<Carol> {
    return new Carol(await ScriptedPeer.create());
  }

  /** REGISTER carol with digest auth; resolves on 200. */
  async register(expires: number): Promise<void> {
    const digest = new DigestClient({ username: 'carol', password: 'secret3' });
    let credentials: SipHeader[] = [];
    for (let cseq = 1; cseq <= 3; cseq++) {
      const headers = new SipHeaders()
        .append('Via', this.peer.via())
        .append('Max-Forwards', '70')
        .append('From', '<sip:carol@127.0.0.1>;tag=carolreg')
        .append('To', '<sip:carol@127.0.0.1>')
        .append('Call-ID', `carol-reg-${this.peer.port}`)
        .append('CSeq', `${cseq} REGISTER`)
        .append('Contact', this.contact)
        .append('Expires', String(expires));
      for (const c of credentials) headers.append(c.name, c.value);
      const req: SipRequest = { kind: 'request', method: 'REGISTER', uri: `sip:127.0.0.1:${PORT}`, headers, body: Buffer.alloc(0) };
      this.peer.send(req, PORT);
      const res = (await this.peer.nextResponse('REGISTER')).msg;
      if (res.status === 200) return;
      if (res.status !== 401) throw new Error(`carol REGISTER: ${res.status} ${res.reason}`);
      credentials = digest.respond(res, req);
    }
    throw new Error('carol REGISTER: no 200');
  }

  /** BYE from carol along her route set (the Record-Route of the INVITE, in order). */
  bye(invite: SipRequest, cseq: number): SipRequest {
    const req = this.peer.dialogRequest(invite, this.tag, 'BYE', cseq);
    for (const rr of invite.headers.getAll('Record-Route')) req.headers.append('Route', rr);
    // The first route is kamailio (a loose router): send it there, Request-URI stays alice's Contact.
    this.peer.send(req, PORT);
    return req;
  }
}

function viaCount(m: SipRequest | SipResponse): number {
  return m.headers.getAll('Via').length;
}

const installed = existsSync(KAMAILIO);
if (!installed) console.log(`# kamailio integration test skipped: ${KAMAILIO} is not installed`);

describe('SipUserAgent against kamailio 127.0.0.1:25060', { skip: installed ? false : `${KAMAILIO} not installed` }, () => {
  const kamailio = new Kamailio();
  const uas: SipUserAgent[] = [];
  let carol: Carol;

  before(async () => {
    await kamailio.start();
    carol = await Carol.create();
    await carol.register(300);
  });

  after(async () => {
    await Promise.all(uas.map((u) => u.close()));
    await carol?.peer.close();
    await kamailio.stop();
  });

  async function newUa(): Promise<SipUserAgent> {
    const ua = await SipUserAgent.create({ log, userAgent: 'sipcast-kamailio-test' });
    uas.push(ua);
    return ua;
  }

  for (const transport of ['udp', 'tcp'] as const) {
    test(`REGISTER alice over ${transport.toUpperCase()}: 401 → 200, then unregister`, async () => {
      const ua = await newUa();
      const mark = kamailio.log.length;
      const reg = await ua.register(alice(transport), 60);
      assert.equal(reg.expires, 60);
      await kamailio.expectLog(
        mark,
        // Over TCP the source port is the ephemeral port of our connection, not the listen port.
        new RegExp(`REQ REGISTER sip:127.0.0.1 from 127.0.0.1:${transport === 'udp' ? ua.port : '\\d+'}/${transport}`),
        /AUTH challenge for REGISTER from alice/,
        /AUTH ok for REGISTER user alice/,
      );
      if (transport === 'tcp') assert.equal(ua.counters.transport.tcpConnected, 1);
      await reg.unregister();
      assert.equal(ua.counters.activeRegistrations, 0);
    });
  }

  test('REGISTER with a wrong password: SipRequestError 401', async () => {
    const ua = await newUa();
    await assert.rejects(ua.register(alice('udp', 'wrong')), (e: unknown) => {
      assert.ok(e instanceof SipRequestError);
      assert.equal(e.status, 401);
      assert.doesNotMatch(e.message, /wrong/);
      return true;
    });
  });

  test('INVITE to an unregistered user: 407 → retry with credentials → 404 rejected', async () => {
    const ua = await newUa();
    const mark = kamailio.log.length;
    const call = ua.invite({ account: alice('udp'), target: 'bob', sdp: SDP_OFFER });
    const w = watch(call);
    assert.equal(await w.until('rejected'), 'rejected 404 Not Found');
    await kamailio.expectLog(mark, /AUTH challenge for INVITE from alice/, /AUTH ok for INVITE user alice/);
  });

  for (const transport of ['udp', 'tcp'] as const) {
    test(`alice (${transport.toUpperCase()}) → kamailio → carol: 407, 180/200, ACK/INFO/BYE follow the Record-Route`, async () => {
      const ua = await newUa();
      const reg = await ua.register(alice(transport), 120);
      const mark = kamailio.log.length;
      const call = ua.invite({ account: alice(transport), target: 'carol', sdp: SDP_OFFER });
      const w = watch(call);
      assert.equal(await w.until('accepted'), 'accepted answer');
      assert.ok(w.events.includes('provisional 180 Ringing'), JSON.stringify(w.events));
      await kamailio.expectLog(mark, /AUTH challenge for INVITE from alice/, /AUTH ok for INVITE user alice/);

      const inv = carol.invites.at(-1)!;
      assert.equal(inv.port, PORT, 'carol got the INVITE from kamailio');
      assert.ok(inv.msg.headers.getAll('Record-Route').length >= 1);
      assert.equal(inv.msg.headers.get('Call-ID'), call.callId);
      assert.equal(inv.msg.body.toString(), SDP_OFFER);

      for (let i = 0; i < 50 && !carol.acks.some((a) => a.msg.headers.get('Call-ID') === call.callId); i++) await new Promise((r) => setTimeout(r, 20));
      const ack = carol.acks.find((a) => a.msg.headers.get('Call-ID') === call.callId);
      assert.ok(ack, 'ACK reached carol');
      assert.equal(ack.port, PORT, 'the ACK went through kamailio (Record-Route)');
      assert.equal(viaCount(ack.msg), 2, 'kamailio Via + ours');

      assert.equal(await call.sendInfo('application/media_control+xml', '<media_control/>'), 200);
      const info = carol.infos.find((a) => a.msg.headers.get('Call-ID') === call.callId);
      assert.ok(info);
      assert.equal(info.port, PORT);

      call.hangup();
      assert.equal(await w.until('terminated'), 'terminated local hangup');
      const bye = carol.byes.find((a) => a.msg.headers.get('Call-ID') === call.callId);
      assert.ok(bye, 'BYE reached carol');
      assert.equal(bye.port, PORT, 'the BYE went through kamailio (Record-Route)');
      assert.equal(viaCount(bye.msg), 2);
      await reg.unregister();
    });
  }

  for (const transport of ['udp', 'tcp'] as const) {
    test(`carol hangs up on alice (${transport.toUpperCase()}): her BYE follows the route set through kamailio to us`, async () => {
      const ua = await newUa();
      const reg = await ua.register(alice(transport), 120);
      const call = ua.invite({ account: alice(transport), target: 'carol', sdp: SDP_OFFER });
      const w = watch(call);
      await w.until('accepted');
      const inv = carol.invites.at(-1)!;
      assert.equal(inv.msg.headers.get('Call-ID'), call.callId);
      await new Promise((r) => setTimeout(r, 100));
      carol.bye(inv.msg, 1);
      const res = await carol.peer.nextResponse('BYE');
      assert.equal(res.msg.status, 200);
      assert.equal(res.port, PORT, 'the 200 came back through kamailio');
      assert.equal(await w.until('terminated'), 'terminated remote BYE');
      // Kamailio does not reuse our outbound connection (no RFC 5923 alias); it connects to our listen port.
      if (transport === 'tcp') assert.equal(ua.counters.transport.tcpAccepted, 1);
      await reg.unregister();
    });
  }

  test('singleRouteOnly: ACK and BYE go to the proxy with a single Route to it', async () => {
    const ua = await newUa();
    const call = ua.invite({ account: alice('udp'), target: 'carol', sdp: SDP_OFFER, singleRouteOnly: true });
    const w = watch(call);
    await w.until('accepted');
    for (let i = 0; i < 50 && !carol.acks.some((a) => a.msg.headers.get('Call-ID') === call.callId); i++) await new Promise((r) => setTimeout(r, 20));
    const ack = carol.acks.find((a) => a.msg.headers.get('Call-ID') === call.callId);
    assert.ok(ack, 'ACK reached carol');
    assert.equal(ack.port, PORT);
    call.hangup();
    assert.equal(await w.until('terminated'), 'terminated local hangup');
    assert.ok(carol.byes.some((b) => b.msg.headers.get('Call-ID') === call.callId && b.port === PORT));
  });
});
