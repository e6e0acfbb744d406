/**
 * SDP for the SIP leg: the offer sipcast puts in its INVITE, the parser for the callee's answer,
 * and the answer to a peer's re-INVITE.
 *
 * The offer is shaped by what baresip 1.0.0 accepts (keyframe-on-demand.md §2, §6): plain
 * `RTP/AVP` on every m-line, because baresip zeroes an `RTP/AVPF` video line and answers an
 * all-AVPF offer with 488. The parser is more lenient than the offer (field-lessons.md #3: phones
 * answer or re-offer AVPF/SAVP lines) and treats the answer as untrusted input: bounded size and
 * m-line count, every number range-checked, a typed error for garbage.
 */
import { isIP } from 'node:net';
import * as sdpTransform from 'sdp-transform';
import type { AudioCodec, MediaDescription, MediaKind } from '../media/MediaTypes.js';

/** Largest SDP body we parse (bytes); a real answer is well under 2 KiB. */
export const MAX_SDP_BYTES = 64 * 1024;
/** Most m-lines we parse; an answer to our offer has two. */
export const MAX_SDP_MEDIA = 8;

/** Payload types sipcast offers (static for G.711, the usual dynamic numbers otherwise). */
export const OFFER_PT = {
  opus: 111,
  PCMU: 0,
  PCMA: 8,
  H264: 96,
  telephoneEvent8k: 101,
  telephoneEvent48k: 110,
} as const;

/** The H.264 format we offer: Constrained Baseline 3.1, FU-A allowed (what baresip's libx264 sends). */
export const OFFER_H264_FMTP = 'packetization-mode=1;profile-level-id=42e01f';

const DEFAULT_AUDIO_CODECS: readonly AudioCodec[] = ['opus', 'PCMU', 'PCMA'];
const ACCEPTED_PROTOCOLS = new Set(['RTP/AVP', 'RTP/AVPF', 'RTP/SAVP', 'RTP/SAVPF']);
const KINDS: readonly MediaKind[] = ['audio', 'video'];

/** Why an SDP could not be used at all. */
export type SipSdpErrorCode = 'too-large' | 'too-many-media' | 'no-media' | 'invalid';

/** Thrown for SDP that is not a usable session description (not for a merely rejected stream). */
export class SipSdpError extends Error {
  override readonly name = 'SipSdpError';
  constructor(
    readonly code: SipSdpErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type SdpDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** Audio part of an offer. */
export interface SipAudioOffer {
  port: number;
  /** Order = preference. Default opus, PCMU, PCMA. */
  codecs?: readonly AudioCodec[];
  /** Offer telephone-event (RFC 4733) for DTMF. Default true. */
  telephoneEvent?: boolean;
}

/** Video part of an offer (H.264 only). */
export interface SipVideoOffer {
  port: number;
}

export interface SipOfferParams {
  /** Our media address (IPv4 or IPv6 literal) for `c=` and `o=`. */
  address: string;
  /** `o=` session id: digits, stable for the dialog. */
  sessionId: string | number;
  /** `o=` version; default 1. Must grow by one with every new SDP we send in the dialog. */
  sessionVersion?: number;
  audio?: SipAudioOffer;
  video?: SipVideoOffer;
}

/** What was offered, as {@link parseSipAnswer} needs it (the offer params fit as they are). */
export interface SipOffered {
  audio?: Pick<SipAudioOffer, 'codecs'> | undefined;
  video?: object | undefined;
}

/** One accepted stream of the answer. */
export interface AnswerStream {
  readonly kind: MediaKind;
  /** m-line protocol as written, e.g. "RTP/AVP". */
  readonly protocol: string;
  /** Where the peer receives RTP: the m-line `c=` or else the session `c=`. */
  readonly address: string;
  readonly port: number;
  /** Where the peer receives RTCP: `a=rtcp` address, else {@link address}. */
  readonly rtcpAddress: string;
  /** `a=rtcp` port, else port + 1; the RTP port with `a=rtcp-mux`. */
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
  /** The peer's payload type for the codec (its first acceptable one in answer order). */
  readonly payloadType: number;
  readonly codec: AudioCodec | 'H264';
  readonly clockRate: number;
  readonly channels: number;
  /** telephone-event PT, preferring the one whose clock matches the codec. */
  readonly telephoneEventPt?: number;
  readonly telephoneEventClockRate?: number;
  readonly direction: SdpDirection;
  /** H.264 only: profile-level-id as written (lower-case hex), when present. */
  readonly profileLevelId?: string;
  /** fmtp parameters of the chosen payload type (keys lower-case). */
  readonly fmtp: Readonly<Record<string, string>>;
  /** First `a=ssrc` id of the m-line: the SSRC the peer will send with (baresip announces it). */
  readonly ssrc?: number;
}

/** The usable content of an SDP answer to our offer. */
export interface SipAnswer {
  readonly audio?: AnswerStream;
  readonly video?: AnswerStream;
  /** Offered kinds the peer did not accept (port 0, missing, no usable codec). */
  readonly rejected: MediaKind[];
  /** Why each rejected kind was rejected, for the log (never zero a line silently). */
  readonly rejectReasons: Partial<Record<MediaKind, string>>;
}

type ParsedSdp = sdpTransform.SessionDescription;
type ParsedMedia = sdpTransform.MediaDescription;

/**
 * Builds the SDP offer for an outgoing INVITE.
 *
 * @throws RangeError for unusable parameters (no media, bad port or address, no audio codec).
 */
export function buildSipOffer(p: SipOfferParams): string {
  const ipVer = ipVersion(p.address);
  if (!p.audio && !p.video) throw new RangeError('offer needs audio or video');
  const media: ParsedMedia[] = [];
  if (p.audio) media.push(audioMedia(p.audio));
  if (p.video) media.push(videoMedia(p.video.port));
  const session: ParsedSdp = {
    version: 0,
    origin: {
      username: 'sipcast',
      sessionId: checkSessionId(p.sessionId),
      sessionVersion: p.sessionVersion ?? 1,
      netType: 'IN',
      ipVer,
      address: p.address,
    },
    name: 'sipcast',
    connection: { version: ipVer, ip: p.address },
    timing: { start: 0, stop: 0 },
    media,
  };
  return sdpTransform.write(session);
}

function audioMedia(a: SipAudioOffer): ParsedMedia {
  checkPort(a.port);
  const codecs = [...new Set(a.codecs ?? DEFAULT_AUDIO_CODECS)];
  if (codecs.length === 0) throw new RangeError('offer needs at least one audio codec');
  const rtp: ParsedMedia['rtp'] = [];
  const fmtp: ParsedMedia['fmtp'] = [];
  for (const c of codecs) {
    if (c === 'opus') {
      rtp.push({ payload: OFFER_PT.opus, codec: 'opus', rate: 48000, encoding: 2 });
      // in-band FEC costs the sender little and hides single losses from the viewers
      fmtp.push({ payload: OFFER_PT.opus, config: 'useinbandfec=1' });
    } else {
      rtp.push({ payload: OFFER_PT[c], codec: c, rate: 8000 });
    }
  }
  if (a.telephoneEvent ?? true) {
    rtp.push({ payload: OFFER_PT.telephoneEvent8k, codec: 'telephone-event', rate: 8000 });
    fmtp.push({ payload: OFFER_PT.telephoneEvent8k, config: '0-16' });
    // RFC 4733 events run on the audio clock, so opus needs its own 48 kHz event format
    if (codecs.includes('opus')) {
      rtp.push({ payload: OFFER_PT.telephoneEvent48k, codec: 'telephone-event', rate: 48000 });
      fmtp.push({ payload: OFFER_PT.telephoneEvent48k, config: '0-16' });
    }
  }
  return {
    type: 'audio',
    port: a.port,
    protocol: 'RTP/AVP',
    payloads: rtp.map((r) => r.payload).join(' '),
    rtp,
    fmtp,
    direction: 'sendrecv',
  };
}

function videoMedia(port: number): ParsedMedia {
  checkPort(port);
  return {
    type: 'video',
    port,
    protocol: 'RTP/AVP',
    payloads: String(OFFER_PT.H264),
    rtp: [{ payload: OFFER_PT.H264, codec: 'H264', rate: 90000 }],
    fmtp: [{ payload: OFFER_PT.H264, config: OFFER_H264_FMTP }],
    // Harmless on AVP and tells AVPF-aware peers we send PLI and FIR; baresip reacts without it.
    rtcpFb: [
      { payload: OFFER_PT.H264, type: 'nack', subtype: 'pli' },
      { payload: OFFER_PT.H264, type: 'ccm', subtype: 'fir' },
    ],
    direction: 'sendrecv',
  };
}

/**
 * Parses the callee's SDP answer against what we offered.
 *
 * The first `m=audio` and first `m=video` line are matched to the offered kinds; other lines are
 * ignored. Per kind the first payload type in the answer's order that we offered (and, for H.264,
 * that has packetization-mode=1 and a Baseline or Main profile) wins. A kind that is not usable
 * lands in `rejected` with a reason; the call can go on with the other one.
 *
 * @throws SipSdpError when the SDP is too large, has too many or no m-lines, or is not SDP.
 */
export function parseSipAnswer(sdp: string, offered: SipOffered): SipAnswer {
  const parsed = parseBounded(sdp);
  const out: { audio?: AnswerStream; video?: AnswerStream } = {};
  const rejected: MediaKind[] = [];
  const rejectReasons: Partial<Record<MediaKind, string>> = {};
  for (const kind of KINDS) {
    const wanted = offered[kind];
    if (!wanted) continue;
    const m = parsed.media.find((x) => x.type === kind);
    const r = m ? acceptStream(kind, m, parsed, offered) : `no m=${kind} line`;
    if (typeof r === 'string') {
      rejected.push(kind);
      rejectReasons[kind] = r;
    } else {
      out[kind] = r;
    }
  }
  return { ...out, rejected, rejectReasons };
}

/** The stream the answer describes, for the live stream that receives the media. */
export function describeMedia(answer: SipAnswer): MediaDescription {
  const a = answer.audio;
  const v = answer.video;
  return {
    ...(a && a.codec !== 'H264'
      ? { audio: { kind: 'audio' as const, codec: a.codec, clockRate: a.clockRate, channels: a.channels } }
      : {}),
    ...(v
      ? {
          video: {
            kind: 'video' as const,
            codec: 'H264' as const,
            clockRate: 90000 as const,
            ...(v.profileLevelId ? { profileLevelId: v.profileLevelId } : {}),
          },
        }
      : {}),
  };
}

/** What we currently receive, for answering a peer's re-INVITE. */
export interface SipCurrentMedia {
  address: string;
  sessionId: string | number;
  /** `o=` version of the last SDP we sent; the re-answer uses this + 1. */
  sessionVersion: number;
  audio?: { port: number; codec: AudioCodec };
  video?: { port: number };
}

/** Answer to a re-offer, plus the peer's new media parameters (address, ports, PTs may change). */
export interface SipReanswer {
  sdp: string;
  sessionVersion: number;
  /** The re-offer read as the peer's description: feed it to RtpSession.updateRemote(). */
  remote: SipAnswer;
}

/**
 * Answers a peer's re-INVITE offer with the media we already use: same ports, same codec (under
 * the PT the re-offer gives it, janus #1591: peers renumber PTs in re-INVITEs), the re-offer's
 * telephone-event PT, mirrored direction. Other m-lines are answered with port 0, in order.
 *
 * Returns null (answer 488) when the re-offer drops or zeroes a kind we receive, no longer lists
 * our codec, or needs SRTP, which this leg does not do.
 *
 * @throws SipSdpError for garbage (answer 400).
 */
export function buildSipAnswerFor(reofferSdp: string, current: SipCurrentMedia): SipReanswer | null {
  const parsed = parseBounded(reofferSdp);
  const remote = parseSipAnswer(reofferSdp, {
    audio: current.audio ? { codecs: [current.audio.codec] } : undefined,
    video: current.video,
  });
  if (remote.rejected.length > 0) return null;
  for (const kind of KINDS) {
    const s = remote[kind];
    if (s && s.protocol !== 'RTP/AVP' && s.protocol !== 'RTP/AVPF') return null;
  }
  const ipVer = ipVersion(current.address);
  const sessionVersion = current.sessionVersion + 1;
  const used = new Set<MediaKind>();
  const media = parsed.media.map((m): ParsedMedia => {
    const kind = m.type === 'audio' || m.type === 'video' ? m.type : undefined;
    const s = kind ? remote[kind] : undefined;
    const ours = kind ? current[kind] : undefined;
    if (kind && s && ours && !used.has(kind)) {
      used.add(kind);
      return reanswerMedia(s, ours.port);
    }
    // RFC 3264 §6: a declined stream keeps its place, port 0, with one format from the offer.
    const first = String(m.payloads ?? '').trim().split(/\s+/)[0] || '0';
    return { type: String(m.type), port: 0, protocol: String(m.protocol) || 'RTP/AVP', payloads: first, rtp: [], fmtp: [] };
  });
  const session: ParsedSdp = {
    version: 0,
    origin: {
      username: 'sipcast',
      sessionId: checkSessionId(current.sessionId),
      sessionVersion,
      netType: 'IN',
      ipVer,
      address: current.address,
    },
    name: 'sipcast',
    connection: { version: ipVer, ip: current.address },
    timing: { start: 0, stop: 0 },
    media,
  };
  return { sdp: sdpTransform.write(session), sessionVersion, remote };
}

function reanswerMedia(s: AnswerStream, port: number): ParsedMedia {
  checkPort(port);
  const rtp: ParsedMedia['rtp'] = [
    {
      payload: s.payloadType,
      codec: s.codec,
      rate: s.clockRate,
      ...(s.codec === 'opus' ? { encoding: 2 } : {}),
    },
  ];
  const fmtp: ParsedMedia['fmtp'] = [];
  if (s.codec === 'opus') fmtp.push({ payload: s.payloadType, config: 'useinbandfec=1' });
  if (s.codec === 'H264') {
    fmtp.push({
      payload: s.payloadType,
      config: `packetization-mode=1;profile-level-id=${s.profileLevelId ?? '42e01f'}`,
    });
  }
  if (s.telephoneEventPt !== undefined) {
    rtp.push({ payload: s.telephoneEventPt, codec: 'telephone-event', rate: s.telephoneEventClockRate ?? 8000 });
    fmtp.push({ payload: s.telephoneEventPt, config: '0-16' });
  }
  return {
    type: s.kind,
    port,
    protocol: s.protocol,
    payloads: rtp.map((r) => r.payload).join(' '),
    rtp,
    fmtp,
    direction: MIRROR[s.direction],
  };
}

/** Answer direction for an offer direction (RFC 3264 §6.1). */
const MIRROR: Record<SdpDirection, SdpDirection> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

function parseBounded(sdp: string): ParsedSdp {
  if (typeof sdp !== 'string') throw new SipSdpError('invalid', 'SDP is not a string');
  if (Buffer.byteLength(sdp, 'utf8') > MAX_SDP_BYTES) {
    throw new SipSdpError('too-large', `SDP larger than ${MAX_SDP_BYTES} bytes`);
  }
  if (!/^v=0[ \t]*\r?$/m.test(sdp)) throw new SipSdpError('invalid', 'no v=0 line');
  // Count before parsing so a hostile body cannot make the parser build thousands of media objects.
  const mLines = sdp.match(/^m=/gm)?.length ?? 0;
  if (mLines === 0) throw new SipSdpError('no-media', 'SDP has no m= line');
  if (mLines > MAX_SDP_MEDIA) throw new SipSdpError('too-many-media', `SDP has ${mLines} m= lines (max ${MAX_SDP_MEDIA})`);
  const parsed = sdpTransform.parse(sdp);
  if (!Array.isArray(parsed.media) || parsed.media.length === 0) {
    throw new SipSdpError('no-media', 'SDP has no parseable m= line');
  }
  // sdp-transform opens a media section for any "m=" line, even one its grammar did not match.
  parsed.media.forEach((m, i) => {
    if (typeof m.type !== 'string' || m.type === '' || typeof m.protocol !== 'string' || m.protocol === '') {
      throw new SipSdpError('invalid', `m= line ${i + 1} is malformed`);
    }
  });
  return parsed;
}

/** Returns the accepted stream, or the reason it is rejected. */
function acceptStream(kind: MediaKind, m: ParsedMedia, session: ParsedSdp, offered: SipOffered): AnswerStream | string {
  const port = toInt(m.port);
  if (port === 0) return 'port 0 (declined by the peer)';
  if (port === undefined || port > 65535) return `invalid port ${String(m.port)}`;
  const protocol = String(m.protocol ?? '');
  if (!ACCEPTED_PROTOCOLS.has(protocol.toUpperCase())) return `unsupported protocol ${protocol}`;
  const address = m.connection?.ip ?? session.connection?.ip;
  if (!address) return 'no c= address';
  if (isIP(address) === 0) return `c= address ${address} is not an IP literal`;

  const rtcpMux = m.rtcpMux !== undefined;
  let rtcpPort = rtcpMux ? port : port + 1;
  let rtcpAddress = address;
  if (m.rtcp && !rtcpMux) {
    const p = toInt(m.rtcp.port);
    if (p === undefined || p === 0 || p > 65535) return `invalid a=rtcp port ${String(m.rtcp.port)}`;
    rtcpPort = p;
    if (m.rtcp.address && isIP(m.rtcp.address) !== 0) rtcpAddress = m.rtcp.address;
  }
  if (rtcpPort > 65535) return `RTCP port ${rtcpPort} out of range`;

  const formats = listFormats(m);
  const chosen = kind === 'audio' ? chooseAudio(formats, offered) : chooseVideo(formats);
  if (typeof chosen === 'string') return chosen;

  const direction = (m.direction ?? session.direction ?? 'sendrecv') as SdpDirection;
  const ssrc = toInt(m.ssrcs?.[0]?.id);
  let te: Format | undefined;
  if (kind === 'audio') {
    const events = formats.filter((f) => f.name === 'telephone-event');
    te = events.find((f) => f.rate === chosen.rate) ?? events[0];
  }
  return {
    kind,
    protocol,
    address,
    port,
    rtcpAddress,
    rtcpPort,
    rtcpMux,
    payloadType: chosen.pt,
    codec: chosen.codec,
    clockRate: chosen.rate,
    channels: chosen.channels,
    ...(te ? { telephoneEventPt: te.pt, telephoneEventClockRate: te.rate } : {}),
    direction,
    ...(chosen.profileLevelId ? { profileLevelId: chosen.profileLevelId } : {}),
    fmtp: chosen.fmtp,
    ...(ssrc !== undefined && ssrc <= 0xffffffff ? { ssrc } : {}),
  };
}

interface Format {
  pt: number;
  /** Lower-case encoding name. */
  name: string;
  rate: number;
  channels: number;
  fmtp: Record<string, string>;
}

interface Chosen {
  pt: number;
  codec: AudioCodec | 'H264';
  rate: number;
  channels: number;
  fmtp: Record<string, string>;
  profileLevelId?: string;
}

/** The m-line's formats in answer order, with rtpmap (or the static table) and fmtp. */
function listFormats(m: ParsedMedia): Format[] {
  const out: Format[] = [];
  const seen = new Set<number>();
  for (const tok of String(m.payloads ?? '').trim().split(/\s+/)) {
    const pt = toInt(tok);
    if (pt === undefined || pt > 127 || seen.has(pt)) continue;
    seen.add(pt);
    const map = m.rtp?.find((r) => toInt(r.payload) === pt);
    const fmtpLine = m.fmtp?.find((f) => toInt(f.payload) === pt);
    const fmtp = parseFmtp(fmtpLine?.config);
    if (map) {
      const name = String(map.codec).toLowerCase();
      const rate = toInt(map.rate) ?? 0;
      const channels = toInt(map.encoding) ?? (name === 'opus' ? 2 : 1);
      out.push({ pt, name, rate, channels, fmtp });
    } else if (pt === 0) {
      out.push({ pt, name: 'pcmu', rate: 8000, channels: 1, fmtp });
    } else if (pt === 8) {
      out.push({ pt, name: 'pcma', rate: 8000, channels: 1, fmtp });
    }
  }
  return out;
}

function chooseAudio(formats: Format[], offered: SipOffered): Chosen | string {
  const codecs = offered.audio?.codecs ?? DEFAULT_AUDIO_CODECS;
  for (const f of formats) {
    const codec: AudioCodec | undefined =
      f.name === 'opus' && f.rate === 48000 ? 'opus'
      : f.name === 'pcmu' && f.rate === 8000 ? 'PCMU'
      : f.name === 'pcma' && f.rate === 8000 ? 'PCMA'
      : undefined;
    if (codec && codecs.includes(codec)) return { pt: f.pt, codec, rate: f.rate, channels: f.channels, fmtp: f.fmtp };
  }
  return `no offered audio codec in the answer (${formats.map((f) => `${f.pt} ${f.name}/${f.rate}`).join(', ') || 'none'})`;
}

function chooseVideo(formats: Format[]): Chosen | string {
  let why = 'no H264/90000 in the answer';
  for (const f of formats) {
    if (f.name !== 'h264' || f.rate !== 90000) continue;
    // Mode 0 (the default when fmtp is missing) means single NAL units only; the pipeline and
    // baresip's 1024-byte packets need FU-A, so such an answer cannot carry its video to us.
    if (f.fmtp['packetization-mode'] !== '1') {
      why = `H264 PT ${f.pt} has packetization-mode ${f.fmtp['packetization-mode'] ?? '0 (no fmtp)'}; only 1 is supported`;
      continue;
    }
    const pli = f.fmtp['profile-level-id']?.toLowerCase();
    if (pli !== undefined && !/^(42|4d)[0-9a-f]{4}$/.test(pli)) {
      why = `H264 PT ${f.pt} has profile-level-id ${pli}; only Baseline (42xxxx) and Main (4dxxxx) are supported`;
      continue;
    }
    return { pt: f.pt, codec: 'H264', rate: 90000, channels: 1, fmtp: f.fmtp, ...(pli ? { profileLevelId: pli } : {}) };
  }
  return why;
}

/** `a=b;c=d` → { a: 'b', c: 'd' }, keys lower-case, at most 32 parameters. */
function parseFmtp(config: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (!config) return out;
  let n = 0;
  for (const part of config.split(';')) {
    if (++n > 32) break;
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (key) out[key] = eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return out;
}

/** sdp-transform yields numbers or strings depending on the text; accept only plain non-negative integers. */
function toInt(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65534) throw new RangeError(`invalid media port ${port}`);
}

function checkSessionId(id: string | number): string | number {
  if (!/^\d{1,20}$/.test(String(id))) throw new RangeError(`invalid SDP session id ${String(id)}`);
  return id;
}

function ipVersion(address: string): 4 | 6 {
  const v = isIP(address);
  if (v === 0) throw new RangeError(`media address ${address} is not an IP literal`);
  return v as 4 | 6;
}
