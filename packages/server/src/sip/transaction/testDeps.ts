/**
 * Test helpers for transaction unit tests: fake clock, recording send functions and message
 * builders. Not used by production code.
 */
import { parseSipMessage, SipHeaders, type SipRequest, type SipResponse } from '../message/index.js';
import { Logger } from '../../util/Logger.js';
import { FakeClock } from './FakeClock.js';
import { timerConfig } from './TimerConfig.js';
import type { ClientTransactionDeps, ServerTransactionDeps, TransactionStats } from './types.js';

/** One recorded transmission. */
export interface Sent {
  /** Fake time of the send. */
  readonly at: number;
  /** Start line of what was sent. */
  readonly line: string;
  readonly text: string;
}

/** Fake-time deps plus the log of what the transaction sent. */
export interface TestDeps {
  readonly clock: FakeClock;
  readonly sent: Sent[];
  readonly stats: TransactionStats;
  readonly client: ClientTransactionDeps;
  readonly server: ServerTransactionDeps;
  /** Makes every later send fail. */
  failSends(): void;
}

/** Deps for a transaction over UDP (`reliable` false) or TCP. */
export function testDeps(reliable: boolean): TestDeps {
  const clock = new FakeClock();
  const sent: Sent[] = [];
  const stats: TransactionStats = { retransmissions: 0, absorbed: 0, timeouts: 0, transportErrors: 0 };
  let failing = false;
  const record = (text: string): Promise<void> => {
    if (failing) return Promise.reject(new Error('send failed'));
    sent.push({ at: clock.now(), line: text.slice(0, text.indexOf('\r\n')), text });
    return Promise.resolve();
  };
  const base = { clock, timers: timerConfig(), log: new Logger('silent'), stats, reliable };
  return {
    clock,
    sent,
    stats,
    client: { ...base, send: (data: Buffer) => record(data.toString('utf8')) },
    server: {
      ...base,
      sendResponse: async (res: SipResponse) => {
        await record(`SIP/2.0 ${res.status} ${res.reason}\r\n${res.headers.get('CSeq') ?? ''}`);
      },
    },
    failSends(): void {
      failing = true;
    },
  };
}

/** A request with the mandatory headers and top Via branch `branch`. */
export function request(method: string, branch: string, cseq = 1): SipRequest {
  const headers = new SipHeaders()
    .append('Via', `SIP/2.0/UDP 127.0.0.1:5070;branch=${branch};rport`)
    .append('Max-Forwards', '70')
    .append('From', '<sip:alice@example.com>;tag=f1')
    .append('To', '<sip:bob@example.com>')
    .append('Call-ID', 'call-1')
    .append('CSeq', `${cseq} ${method}`)
    .append('Route', '<sip:proxy.example.com;lr>');
  return { kind: 'request', method, uri: 'sip:bob@example.com', headers, body: Buffer.alloc(0) };
}

/** A response to `req` with To tag `tag`. */
export function response(req: SipRequest, status: number, reason: string, tag = 't1'): SipResponse {
  const text = [
    `SIP/2.0 ${status} ${reason}`,
    `Via: ${req.headers.get('Via') ?? ''}`,
    `From: ${req.headers.get('From') ?? ''}`,
    `To: ${req.headers.get('To') ?? ''}${status > 100 ? `;tag=${tag}` : ''}`,
    `Call-ID: ${req.headers.get('Call-ID') ?? ''}`,
    `CSeq: ${req.headers.get('CSeq') ?? ''}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const msg = parseSipMessage(Buffer.from(text));
  if (msg.kind !== 'response') throw new Error('not a response');
  return msg;
}

/** Lets pending promise callbacks (send failures) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
