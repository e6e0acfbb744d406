/**
 * A UAC dialog (RFC 3261 §12): identifiers, route set, remote target and CSeq spaces, and the
 * construction of in-dialog requests (§12.2.1.1) including strict-router handling.
 */
import { getParam, parseCSeq, parseNameAddr, type SipRequest, type SipResponse } from '../message/index.js';
import { isLooseRoute, uriOf } from './uriHop.js';

/** Where an in-dialog request goes and how it is addressed. */
export interface DialogRouting {
  /** Request-URI. */
  readonly uri: string;
  /** Route header values, in order. */
  readonly routes: readonly string[];
  /** URI whose host/port/transport is the next hop. */
  readonly hopUri: string;
}

function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return getParam(parseNameAddr(value).params, 'tag')?.value ?? undefined;
  } catch {
    return undefined;
  }
}

/** Tag parameter of the From header of `msg`. */
export function fromTagOf(msg: SipRequest | SipResponse): string | undefined {
  return tagOf(msg.headers.get('From'));
}

/** Tag parameter of the To header of `msg`. */
export function toTagOf(msg: SipRequest | SipResponse): string | undefined {
  return tagOf(msg.headers.get('To'));
}

/** CSeq number of `msg`, or undefined when unreadable. */
export function cseqOf(msg: SipRequest | SipResponse): number | undefined {
  try {
    return parseCSeq(msg.headers.get('CSeq') ?? '').seq;
  } catch {
    return undefined;
  }
}

/** The URI of the first Contact of `msg`, or undefined. */
export function contactUriOf(msg: SipRequest | SipResponse): string | undefined {
  const c = msg.headers.get('Contact');
  if (c === undefined || c === '*') return undefined;
  try {
    return parseNameAddr(c).uri;
  } catch {
    return undefined;
  }
}

/** State of one dialog created by our INVITE. */
export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  /** Our From value, tag included. */
  readonly localUri: string;
  readonly remoteTag: string;
  /** The peer's To value, tag included. */
  remoteUri: string;
  /** Where requests in the dialog go (the peer's Contact), refreshed by target-refresh requests. */
  remoteTarget: string;
  /** Route values for requests we send (Record-Route reversed). */
  routeSet: string[];
  /** Our last CSeq number. */
  localSeq: number;
  /** The peer's last CSeq number, undefined until it sends a request. */
  remoteSeq: number | undefined;
  /** True once a 2xx confirmed the dialog. */
  confirmed = false;

  private constructor(o: { callId: string; localTag: string; localUri: string; remoteTag: string; remoteUri: string; remoteTarget: string; routeSet: string[]; localSeq: number }) {
    this.callId = o.callId;
    this.localTag = o.localTag;
    this.localUri = o.localUri;
    this.remoteTag = o.remoteTag;
    this.remoteUri = o.remoteUri;
    this.remoteTarget = o.remoteTarget;
    this.routeSet = o.routeSet;
    this.localSeq = o.localSeq;
    this.remoteSeq = undefined;
  }

  /**
   * The dialog a 1xx (with To tag) or 2xx to `invite` establishes (§12.1.2): route set from the
   * Record-Route of the response in reverse order, remote target from its Contact (falling
   * back to the Request-URI when a broken UAS sent none). Undefined when the response has no To tag.
   */
  static fromResponse(invite: SipRequest, res: SipResponse): Dialog | undefined {
    const remoteTag = toTagOf(res);
    const localTag = fromTagOf(invite);
    if (remoteTag === undefined || localTag === undefined) return undefined;
    const d = new Dialog({
      callId: invite.headers.get('Call-ID') ?? '',
      localTag,
      localUri: invite.headers.get('From') ?? '',
      remoteTag,
      remoteUri: res.headers.get('To') ?? '',
      remoteTarget: contactUriOf(res) ?? invite.uri,
      routeSet: [...res.headers.getAll('Record-Route')].reverse(),
      localSeq: cseqOf(invite) ?? 1,
    });
    d.confirmed = res.status >= 200;
    return d;
  }

  /** A 2xx for an early dialog: the route set is recomputed from it and the dialog is confirmed (§12.1.2). */
  confirm(res: SipResponse): void {
    this.routeSet = [...res.headers.getAll('Record-Route')].reverse();
    this.remoteTarget = contactUriOf(res) ?? this.remoteTarget;
    this.remoteUri = res.headers.get('To') ?? this.remoteUri;
    this.confirmed = true;
  }

  /** True when `req` from the peer belongs to this dialog (§12.2.2: Call-ID, To tag = ours, From tag = theirs). */
  matches(req: SipRequest): boolean {
    return req.headers.get('Call-ID') === this.callId && toTagOf(req) === this.localTag && fromTagOf(req) === this.remoteTag;
  }

  /** Next CSeq number for a new request (not for ACK/CANCEL, which reuse the INVITE's). */
  nextSeq(): number {
    this.localSeq += 1;
    return this.localSeq;
  }

  /**
   * Request-URI, Route values and next hop for a request in this dialog (§12.2.1.1): with a
   * loose-routing first hop the Request-URI is the remote target; with a strict router the
   * first route becomes the Request-URI and the remote target is appended as the last Route.
   */
  routing(): DialogRouting {
    const first = this.routeSet[0];
    if (first === undefined) return { uri: this.remoteTarget, routes: [], hopUri: this.remoteTarget };
    if (isLooseRoute(first)) return { uri: this.remoteTarget, routes: [...this.routeSet], hopUri: uriOf(first) };
    const strictUri = uriOf(first).replace(/\?.*$/, '');
    return { uri: strictUri, routes: [...this.routeSet.slice(1), `<${this.remoteTarget}>`], hopUri: strictUri };
  }
}
