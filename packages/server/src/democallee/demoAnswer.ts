import * as sdpTransform from 'sdp-transform';
import type { AudioCodec } from '../media/MediaTypes.js';

/** What the demo callee sends for one kind, as negotiated with the caller's offer. */
export interface DemoTrackPlan {
  readonly payloadType: number;
  /** Where the caller wants our RTP and RTCP. */
  readonly address: string;
  readonly port: number;
  readonly rtcpPort: number;
}

export interface DemoPlan {
  readonly audio?: DemoTrackPlan & { readonly codec: AudioCodec; readonly telephoneEventPt?: number };
  readonly video?: DemoTrackPlan;
}

const AUDIO_NAMES: Record<string, AudioCodec> = { OPUS: 'opus', PCMU: 'PCMU', PCMA: 'PCMA' };

/**
 * Reads a caller's offer and picks what the demo clip can send: the first offered audio codec
 * among opus, PCMU, PCMA (offer order, like a softphone) and H.264 packetization-mode 1.
 * Throws for an offer with nothing usable.
 */
export function planFromOffer(offerSdp: string): DemoPlan {
  if (offerSdp.length > 64 * 1024) throw new Error('offer too large');
  const s = sdpTransform.parse(offerSdp);
  const sessionAddr = s.connection?.ip;
  let audio: DemoPlan['audio'];
  let video: DemoPlan['video'];
  for (const m of (s.media ?? []).slice(0, 8)) {
    if (m.port === 0) continue;
    const address = m.connection?.ip ?? sessionAddr;
    if (!address) continue;
    const rtcpPort = m.rtcpMux ? m.port : (m.rtcp?.port ?? m.port + 1);
    const payloads = String(m.payloads ?? '').split(' ').map(Number);
    if (m.type === 'audio' && !audio) {
      for (const pt of payloads) {
        const rtp = m.rtp.find((r) => r.payload === pt);
        const name = rtp ? AUDIO_NAMES[rtp.codec.toUpperCase()] : pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : undefined;
        if (name) {
          const clock = name === 'opus' ? 48000 : 8000;
          const te = m.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === clock) ?? m.rtp.find((r) => r.codec.toLowerCase() === 'telephone-event');
          audio = { codec: name, payloadType: pt, address, port: m.port, rtcpPort, ...(te ? { telephoneEventPt: te.payload } : {}) };
          break;
        }
      }
    } else if (m.type === 'video' && !video) {
      const h264 = m.rtp.find((r) => r.codec.toUpperCase() === 'H264' && /packetization-mode=1/.test(m.fmtp?.find((f) => f.payload === r.payload)?.config ?? ''));
      if (h264) video = { payloadType: h264.payload, address, port: m.port, rtcpPort };
    }
  }
  if (!audio && !video) throw new Error('no codec the demo clip can send');
  return { ...(audio ? { audio } : {}), ...(video ? { video } : {}) };
}

/** Our SDP answer: one codec per accepted m-line, in the offer's order; refused lines get port 0. */
export function buildDemoAnswer(offerSdp: string, plan: DemoPlan, address: string, ports: { audio?: number; video?: number }, sessionId: number): string {
  const offer = sdpTransform.parse(offerSdp);
  const lines = ['v=0', `o=sipcast-demo ${sessionId} ${sessionId} IN IP4 ${address}`, 's=sipcast demo callee', `c=IN IP4 ${address}`, 't=0 0'];
  for (const m of offer.media ?? []) {
    const proto = m.protocol;
    if (m.type === 'audio' && plan.audio && ports.audio) {
      const pt = plan.audio.payloadType;
      const rtpmap = plan.audio.codec === 'opus' ? 'opus/48000/2' : `${plan.audio.codec}/8000`;
      const te = plan.audio.telephoneEventPt;
      const teRate = m.rtp.find((r) => r.payload === te)?.rate ?? 8000;
      lines.push(`m=audio ${ports.audio} ${proto} ${pt}${te !== undefined ? ` ${te}` : ''}`, `a=rtpmap:${pt} ${rtpmap}`);
      if (te !== undefined) lines.push(`a=rtpmap:${te} telephone-event/${teRate}`, `a=fmtp:${te} 0-16`);
      lines.push('a=sendrecv');
    } else if (m.type === 'video' && plan.video && ports.video) {
      const pt = plan.video.payloadType;
      lines.push(
        `m=video ${ports.video} ${proto} ${pt}`,
        `a=rtpmap:${pt} H264/90000`,
        `a=fmtp:${pt} packetization-mode=1;profile-level-id=42e01e`,
        `a=rtcp-fb:${pt} nack pli`,
        'a=sendrecv',
      );
    } else {
      lines.push(`m=${m.type} 0 ${proto} ${String(m.payloads ?? '0').split(' ')[0]}`);
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
