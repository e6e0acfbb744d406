import * as sdpTransform from 'sdp-transform';
import type { AudioCodec, MediaDescription, MediaKind } from '../media/MediaTypes.js';

/** Thrown for an SDP that cannot be answered; `info` is what the viewer sees. */
export class OfferError extends Error {
  override readonly name = 'OfferError';
  readonly info: string;
  constructor(message: string, info: string) {
    super(message);
    this.info = info;
  }
}

/** The codec chosen for one m-section of the browser's offer. */
export interface SelectedCodec {
  readonly kind: MediaKind;
  readonly mid: string;
  readonly payloadType: number;
  /** rtpmap encoding name as written in the offer (e.g. "H264", "opus", "PCMU"). */
  readonly codec: string;
  readonly clockRate: number;
  readonly channels: number;
  /** The offer's fmtp for that payload type, echoed in the answer. */
  readonly fmtp: string;
}

export interface OfferSelection {
  readonly audio?: SelectedCodec;
  readonly video?: SelectedCodec;
}

const MAX_SDP_LENGTH = 64 * 1024;
const MAX_MEDIA_SECTIONS = 16;

/**
 * H.264 profiles a constrained-baseline source can be sent as, best first: constrained
 * baseline (42e0), baseline (4200), main (4d00), high (6400). Every one of them decodes a
 * constrained-baseline stream.
 */
const H264_PROFILE_RANK = ['42e0', '42c0', '4200', '4d00', '4d40', '6400'] as const;

/**
 * Reads a browser's recvonly offer and picks, per m-section, the one codec sipcast will send:
 * H.264 packetization-mode=1 for video, the source's own audio codec for audio.
 */
export function selectCodecs(offerSdp: unknown, media: MediaDescription): OfferSelection {
  if (typeof offerSdp !== 'string' || offerSdp.length === 0) {
    throw new OfferError('sdp is missing', 'Failed by error: SDP offer is missing');
  }
  if (offerSdp.length > MAX_SDP_LENGTH) {
    throw new OfferError('sdp is too large', 'Failed by error: SDP offer is too large');
  }
  if (!/^v=0\r?\n/.test(offerSdp)) {
    throw new OfferError('sdp does not start with v=0', 'Failed by error: SDP offer is malformed');
  }
  let session: sdpTransform.SessionDescription;
  try {
    session = sdpTransform.parse(offerSdp);
  } catch {
    throw new OfferError('sdp does not parse', 'Failed by error: SDP offer is malformed');
  }
  const sections = session.media ?? [];
  if (sections.length === 0 || sections.length > MAX_MEDIA_SECTIONS) {
    throw new OfferError(`sdp has ${sections.length} media sections`, 'Failed by error: SDP offer has no usable media');
  }
  if (!session.fingerprint && !sections.some((m) => m.fingerprint)) {
    throw new OfferError('sdp has no DTLS fingerprint', 'Failed by error: SDP offer has no DTLS fingerprint');
  }
  let audio: SelectedCodec | undefined;
  let video: SelectedCodec | undefined;
  for (const m of sections) {
    if (m.port === 0 || m.mid === undefined) continue;
    if (m.direction === 'sendonly' || m.direction === 'inactive') continue;
    if (m.type === 'video' && !video && media.video) video = pickH264(m);
    else if (m.type === 'audio' && !audio && media.audio) audio = pickAudio(m, media.audio.codec);
  }
  if (!audio && !video) {
    throw new OfferError('no common codec', 'No common codecs');
  }
  return { ...(audio ? { audio } : {}), ...(video ? { video } : {}) };
}

type MediaSection = sdpTransform.SessionDescription['media'][number];

function fmtpOf(m: MediaSection, pt: number): string {
  return m.fmtp?.find((f) => f.payload === pt)?.config ?? '';
}

function fmtpParams(config: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of config.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return out;
}

function pickH264(m: MediaSection): SelectedCodec | undefined {
  let best: { rank: number; pt: number; fmtp: string; codec: string } | undefined;
  for (const r of m.rtp) {
    if (r.codec.toUpperCase() !== 'H264' || r.rate !== 90000) continue;
    const fmtp = fmtpOf(m, r.payload);
    const params = fmtpParams(fmtp);
    if (params.get('packetization-mode') !== '1') continue;
    const profile = (params.get('profile-level-id') ?? '42e01f').toLowerCase().slice(0, 4);
    const rank = H264_PROFILE_RANK.indexOf(profile as (typeof H264_PROFILE_RANK)[number]);
    if (rank < 0) continue;
    if (!best || rank < best.rank) best = { rank, pt: r.payload, fmtp, codec: r.codec };
  }
  if (!best) return undefined;
  return {
    kind: 'video',
    mid: String(m.mid),
    payloadType: best.pt,
    codec: best.codec,
    clockRate: 90000,
    channels: 1,
    fmtp: best.fmtp,
  };
}

const AUDIO_MATCH: Record<AudioCodec, { name: string; rate: number; staticPt?: number }> = {
  opus: { name: 'OPUS', rate: 48000 },
  PCMU: { name: 'PCMU', rate: 8000, staticPt: 0 },
  PCMA: { name: 'PCMA', rate: 8000, staticPt: 8 },
};

function pickAudio(m: MediaSection, codec: AudioCodec): SelectedCodec | undefined {
  const want = AUDIO_MATCH[codec];
  const byMap = m.rtp.find((r) => r.codec.toUpperCase() === want.name && r.rate === want.rate);
  let pt = byMap?.payload;
  // Static payload types may be offered without an rtpmap line (RFC 3551).
  if (pt === undefined && want.staticPt !== undefined) {
    const listed = String(m.payloads ?? '').split(' ').map(Number);
    if (listed.includes(want.staticPt)) pt = want.staticPt;
  }
  if (pt === undefined) return undefined;
  return {
    kind: 'audio',
    mid: String(m.mid),
    payloadType: pt,
    codec: byMap?.codec ?? want.name,
    clockRate: want.rate,
    channels: codec === 'opus' ? 2 : 1,
    fmtp: fmtpOf(m, pt),
  };
}

/**
 * Makes libdatachannel the DTLS server by turning the offer's `actpass` into `active`.
 * As DTLS server it chooses the SRTP profile and prefers AEAD-AES-GCM, which Chromium only
 * picks itself when the other side does not offer AES-CM (docs/webrtc.md).
 */
export function preferDtlsServerRole(offerSdp: string): string {
  return offerSdp.replace(/^a=setup:actpass\r?$/gm, (line) => line.replace('actpass', 'active'));
}
