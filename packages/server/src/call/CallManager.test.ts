import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { MediaKind } from '../media/MediaTypes.js';
import { StreamRegistry } from '../registry/StreamRegistry.js';
import { Logger } from '../util/Logger.js';
import type { AppliedAnswer, MediaLeg, SipAccount, SipAgent, SipCallLeg, SipFailure } from './CallPorts.js';
import { CallManager, CallRejectedError } from './CallManager.js';
import type { CallSettings } from './CallSettings.js';
import type { CallStartup } from './CallTypes.js';

class FakeLeg extends EventEmitter implements SipCallLeg {
  readonly callId = 'sip-call-id';
  hangups = 0;
  infos: [string, string][] = [];
  hangup(): void {
    this.hangups++;
  }
  async sendInfo(contentType: string, body: string): Promise<number> {
    this.infos.push([contentType, body]);
    return 200;
  }
}

class FakeMedia extends EventEmitter implements MediaLeg {
  readonly ports = { audio: { rtp: 30000, rtcp: 30001 }, video: { rtp: 30002, rtcp: 30003 } };
  started = 0;
  keyframes = 0;
  closed = false;
  dtmf: string[] = [];
  offer(): string {
    return `offer ${this.ports.audio.rtp} ${this.ports.video.rtp}`;
  }
  applyAnswer(sdp: string): AppliedAnswer {
    if (sdp === 'garbage') throw new Error('bad sdp');
    this.started++;
    return {
      media: { audio: { kind: 'audio', codec: 'opus', clockRate: 48000, channels: 2 }, video: { kind: 'video', codec: 'H264', clockRate: 90000 } },
      rejected: [],
    };
  }
  answerReoffer(): string | null {
    return 'answer';
  }
  requestKeyframe(): void {
    this.keyframes++;
  }
  async sendDtmf(d: string): Promise<void> {
    this.dtmf.push(d);
  }
  close(): void {
    this.closed = true;
  }
}

function sipError(status: number, reason: string): SipFailure {
  return Object.assign(new Error(`${status} ${reason}`), { status, reason });
}

function setup(over: Partial<CallSettings> = {}) {
  const legs: FakeLeg[] = [];
  const medias: FakeMedia[] = [];
  const invites: { account: SipAccount; target: string; sdp: string }[] = [];
  let registerResult: Error | undefined;
  let unregisters = 0;
  const agent: SipAgent = {
    async register() {
      if (registerResult) throw registerResult;
      return { unregister: async () => void unregisters++ };
    },
    invite(o) {
      invites.push(o);
      const leg = new FakeLeg();
      legs.push(leg);
      return leg;
    },
  };
  const settings: CallSettings = {
    sipBindAddress: '127.0.0.1',
    sipPort: 0,
    sipPublicAddress: '127.0.0.1',
    rtpPortMin: 30000,
    rtpPortMax: 30100,
    rtpSessionInitAlways: true,
    rtpActivityTimeoutSec: 10,
    sipSingleRouteOnly: false,
    maxCalls: 2,
    maxCallDurationSec: 0,
    calleeAllowPattern: undefined,
    ringTimeoutSec: 0,
    ...over,
  };
  const registry = new StreamRegistry();
  const manager = new CallManager(
    registry,
    {
      agent,
      media: {
        async open(kinds: MediaKind[]) {
          assert.ok(kinds.length > 0);
          const m = new FakeMedia();
          medias.push(m);
          return m;
        },
      },
    },
    settings,
    new Logger('silent'),
  );
  return {
    manager,
    registry,
    legs,
    medias,
    invites,
    failRegister: (e: Error) => (registerResult = e),
    unregisters: () => unregisters,
  };
}

const req = (over: Partial<CallStartup> = {}): CallStartup => ({
  callId: 'c1',
  callee: 'bob',
  toStream: 'call1',
  hasAudio: true,
  hasVideo: true,
  sipLogin: 'alice',
  sipPassword: 'secret1',
  sipDomain: '127.0.0.1',
  sipTransport: 'udp',
  sipRegisterRequired: false,
  ...over,
});

const tick = () => new Promise((r) => setImmediate(r));

test('a call rings, is answered, becomes the stream, and ends when the callee hangs up', async () => {
  const t = setup();
  const call = t.manager.startup(req());
  assert.ok(t.registry.get('call1'), 'stream name reserved at once');
  assert.equal(t.registry.get('call1')!.status, 'PENDING');
  await tick();
  assert.equal(call.status, 'TRYING');
  assert.equal(t.invites[0]!.target, 'bob');
  assert.equal(t.invites[0]!.sdp, 'offer 30000 30002');
  const leg = t.legs[0]!;
  leg.emit('provisional', 180, 'Ringing', undefined);
  assert.equal(call.status, 'RING');
  leg.emit('accepted', 'v=0 answer');
  assert.equal(call.status, 'ESTABLISHED');
  assert.equal(t.medias[0]!.started, 1);
  assert.equal(t.registry.get('call1')!.status, 'PUBLISHING');
  assert.equal(t.manager.find({ callId: 'c1' })[0]!.status, 'ESTABLISHED');
  // Keyframe requests go out as RTCP (media) and SIP INFO.
  call.requestKeyframe();
  assert.equal(t.medias[0]!.keyframes, 1);
  assert.match(leg.infos[0]![1], /picture_fast_update/);
  leg.emit('terminated', 'remote', 'BYE');
  assert.equal(call.status, 'FINISH');
  assert.equal(t.registry.get('call1'), undefined, 'stream ended and name freed');
  assert.equal(t.manager.find({ callId: 'c1' }).length, 0, 'an ended call is gone');
  assert.ok(t.medias[0]!.closed);
});

test('early media (183 with SDP) starts the stream before the answer', async () => {
  const t = setup();
  const call = t.manager.startup(req());
  await tick();
  t.legs[0]!.emit('provisional', 183, 'Session Progress', 'v=0 early');
  assert.equal(call.status, 'SESSION_PROGRESS');
  assert.equal(t.medias[0]!.started, 1);
  t.legs[0]!.emit('accepted', 'v=0 final');
  assert.equal(call.status, 'ESTABLISHED');
  assert.equal(t.medias[0]!.started, 1, 'media not restarted');
});

test('busy, other failures and a garbage answer end the call with the SIP status', async () => {
  const t = setup({ maxCalls: 10 });
  const busy = t.manager.startup(req({ callId: 'b', toStream: 'b' }));
  const fail = t.manager.startup(req({ callId: 'f', toStream: 'f' }));
  const bad = t.manager.startup(req({ callId: 'g', toStream: 'g' }));
  await tick();
  t.legs[0]!.emit('rejected', sipError(486, 'Busy Here'));
  t.legs[1]!.emit('rejected', sipError(403, 'Forbidden'));
  t.legs[2]!.emit('accepted', 'garbage');
  assert.equal(busy.status, 'BUSY');
  assert.equal(busy.sipStatus, 486);
  assert.equal(fail.status, 'FAILED');
  assert.equal(fail.sipStatus, 403);
  // Failed calls stay readable for a while (status, sipStatus); the stream name is free at once.
  assert.equal(t.manager.find({ callId: 'b' })[0]?.status, 'BUSY');
  assert.equal(t.manager.find({ status: 'FAILED' })[0]?.sipStatus, 403);
  assert.equal(t.registry.get('f'), undefined);
  assert.equal(t.manager.terminate('f'), false);
  t.manager.startup(req({ callId: 'f', toStream: 'f' }));
  assert.equal(t.legs[2]!.hangups, 1, 'unusable answer -> BYE');
  t.legs[2]!.emit('terminated', 'local', 'BYE');
  assert.equal(bad.status, 'FINISH');
  assert.equal(bad.toJson().info, 'No common codecs');
});

test('terminate while ringing cancels; 487 ends the call as FINISH', async () => {
  const t = setup();
  const call = t.manager.startup(req());
  await tick();
  t.legs[0]!.emit('provisional', 180, 'Ringing', undefined);
  assert.equal(t.manager.terminate('c1'), true);
  assert.equal(t.legs[0]!.hangups, 1);
  t.legs[0]!.emit('rejected', sipError(487, 'Request Terminated'));
  assert.equal(call.status, 'FINISH');
  assert.equal(t.manager.terminate('c1'), false, 'unknown afterwards');
});

test('no RTP -> "Failed by RTP activity": BYE, call FAILED, viewers see the stream fail', async () => {
  const t = setup();
  const call = t.manager.startup(req());
  await tick();
  t.legs[0]!.emit('accepted', 'v=0');
  const stream = t.registry.get('call1')!;
  let ended: string | undefined;
  stream.on('ended', (e) => (ended = `${e.info}/${e.failed}`));
  t.medias[0]!.emit('inactive');
  assert.equal(t.legs[0]!.hangups, 1);
  t.legs[0]!.emit('terminated', 'local', 'BYE');
  assert.equal(call.status, 'FAILED');
  assert.equal(call.toJson().info, 'Failed by RTP activity');
  assert.equal(ended, 'Failed by RTP activity/true');
});

test('REGISTER failure fails the call with its SIP status; success unregisters at the end', async () => {
  const t = setup();
  t.failRegister(sipError(401, 'Unauthorized'));
  const call = t.manager.startup(req({ sipRegisterRequired: true }));
  await tick();
  await tick();
  assert.equal(call.status, 'FAILED');
  assert.equal(call.sipStatus, 401);
  assert.equal(t.invites.length, 0);
  const t2 = setup();
  const ok = t2.manager.startup(req({ sipRegisterRequired: true }));
  await tick();
  await tick();
  t2.legs[0]!.emit('accepted', 'v=0');
  t2.legs[0]!.emit('terminated', 'remote', 'BYE');
  assert.equal(ok.status, 'FINISH');
  await tick();
  assert.equal(t2.unregisters(), 1);
});

test('conflicts, allow-list and limits are refused before anything is sent', () => {
  const t = setup({ calleeAllowPattern: /^(bob|carol)$/ });
  t.manager.startup(req());
  assert.throws(() => t.manager.startup(req({ toStream: 'other' })), (e: unknown) => e instanceof CallRejectedError && e.kind === 'conflict' && e.field === 'callId');
  assert.throws(() => t.manager.startup(req({ callId: 'c2' })), (e: unknown) => e instanceof CallRejectedError && e.field === 'toStream');
  assert.throws(() => t.manager.startup(req({ callId: 'c3', toStream: 's3', callee: '900123' })), (e: unknown) => e instanceof CallRejectedError && e.kind === 'forbidden');
  t.manager.startup(req({ callId: 'c4', toStream: 's4', callee: 'carol' }));
  assert.throws(() => t.manager.startup(req({ callId: 'c5', toStream: 's5' })), (e: unknown) => e instanceof CallRejectedError && e.kind === 'limit');
});

test('DTMF: RFC2833 goes to the media leg, INFO variants as SIP INFO; refused before the answer', async () => {
  const t = setup();
  t.manager.startup(req());
  await tick();
  await assert.rejects(t.manager.sendDtmf('c1', '1', 'RFC2833'));
  t.legs[0]!.emit('accepted', 'v=0');
  await t.manager.sendDtmf('c1', '12#', 'RFC2833');
  assert.deepEqual(t.medias[0]!.dtmf, ['12#']);
  await t.manager.sendDtmf('c1', '5', 'INFO');
  await t.manager.sendDtmf('c1', '7', 'INFO_RELAY');
  assert.deepEqual(t.legs[0]!.infos, [
    ['application/dtmf', '5'],
    ['application/dtmf-relay', 'Signal=7\r\nDuration=160\r\n'],
  ]);
  assert.equal(await t.manager.sendDtmf('nope', '1', 'INFO'), false);
});
