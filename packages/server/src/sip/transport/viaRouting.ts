/**
 * Via processing at the transport layer: stamping `received`/`rport` on incoming requests
 * (RFC 3261 §18.2.1, RFC 3581 §4) and choosing where a response goes (RFC 3261 §18.2.2,
 * RFC 3581 §4).
 */
import { formatVia, parseVia, SipHeaders, type SipMessage, type Via } from '../message/index.js';
import { unbracket } from './resolveHost.js';
import type { SipHostTarget, SipSource, SipTransportProtocol } from './types.js';

/** Default port of sip: URIs and Via sent-by (RFC 3261 §19.1.2, §18.2.2). */
export const SIP_DEFAULT_PORT = 5060;

/** The parsed top Via of `msg`, or undefined when it is missing or unreadable. */
export function topVia(msg: SipMessage): Via | undefined {
  const v = msg.headers.get('Via');
  if (v === undefined) return undefined;
  try {
    return parseVia(v);
  } catch {
    return undefined;
  }
}

/**
 * Adds `received` when the sent-by host is not the packet's source address, and fills in a
 * bare `;rport` with the source port (RFC 3581 also demands `received` then, even if equal).
 * Without this, responses to a UA behind NAT would go to its private sent-by address.
 */
export function stampReceived(msg: SipMessage, source: SipSource): void {
  const entries = msg.headers.entries();
  const index = entries.findIndex((h) => h.name === 'Via');
  if (index < 0) return;
  let via: Via;
  try {
    via = parseVia(entries[index]!.value);
  } catch {
    return;
  }
  const wantsRport = via.rport === true;
  const differs = unbracket(via.host).toLowerCase() !== source.address.toLowerCase();
  if (!wantsRport && !differs) return;
  const params = via.params.filter((p) => {
    const n = p.name.toLowerCase();
    return n !== 'received' && !(wantsRport && n === 'rport');
  });
  params.push({ name: 'received', value: source.address });
  if (wantsRport) params.push({ name: 'rport', value: String(source.port) });
  const value = formatVia({ ...via, params });
  msg.headers = new SipHeaders(entries.map((h, i) => (i === index ? { name: h.name, value } : h)));
}

/** Maps a Via transport token to ours, or undefined for transports we do not speak. */
export function viaTransport(via: Via): SipTransportProtocol | undefined {
  if (via.transport === 'UDP') return 'udp';
  if (via.transport === 'TCP') return 'tcp';
  return undefined;
}

/**
 * Where a response must be sent when it cannot simply follow the request's TCP connection
 * (RFC 3261 §18.2.2 with RFC 3581): TCP → received (or sent-by) at the sent-by port; UDP with
 * maddr → maddr at the sent-by port; UDP with rport=N → received:N; otherwise received (or
 * sent-by host) at the sent-by port. Returns undefined when the top Via is unusable.
 */
export function responseTarget(via: Via): SipHostTarget | undefined {
  const transport = viaTransport(via);
  if (transport === undefined) return undefined;
  const sentByPort = via.port ?? SIP_DEFAULT_PORT;
  const host = via.received ?? via.host;
  if (transport === 'tcp') return { transport, host, port: sentByPort };
  if (via.maddr !== undefined) return { transport, host: via.maddr, port: sentByPort };
  if (typeof via.rport === 'number') return { transport, host, port: via.rport };
  return { transport, host, port: sentByPort };
}
