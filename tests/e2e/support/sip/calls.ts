/**
 * Helpers for the SIP call e2e specs (tests/e2e/sip-*.spec.ts): REST `/rest-api/call/*` and `/stream/*` of a
 * running sipcast server, the call's status history read from the server log, and the Player page.
 *
 * Why the server log for final statuses: an ended call leaves the call table in the same tick as it reaches
 * BUSY / FAILED / FINISH (docs/rest-api.md: "An ended call is gone from /call/find"), so polling `/call/find`
 * can never observe those statuses. The server logs every status change as `call <callId>: <STATUS>` (info
 * level), and the SIP UA logs `call <callId>: rejected <code> <reason>`, `call <callId>: CANCEL`, ... - those
 * lines are the robust observation point; the REST API is then checked for the 404 that follows.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { instrumentPage } from '../media';
import type { SipcastServer } from '../server';

/** Directory of this module (custom SIPp scenarios live next to it). */
export const SIP_SUPPORT_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface RestAnswer<T = unknown> {
  status: number;
  json: T | undefined;
  text: string;
}

export async function rest<T = unknown>(server: SipcastServer, method: string, body: unknown = {}): Promise<RestAnswer<T>> {
  const r = await fetch(`${server.httpUrl}/rest-api/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  let json: T | undefined;
  try {
    json = text ? (JSON.parse(text) as T) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

export interface CallJson {
  callId: string;
  status: string;
  sipStatus: number;
  info: string;
  callee: string;
  hasAudio: boolean;
  hasVideo: boolean;
  streamName: string;
  audioCodec: string;
  videoCodec: string;
  [k: string]: unknown;
}

export interface StreamJson {
  name: string;
  status: string;
  hasAudio: boolean;
  hasVideo: boolean;
  audioCodec: string;
  videoCodec: string;
  width: number;
  height: number;
  [k: string]: unknown;
}

export interface CallStartup {
  callId: string;
  callee: string;
  toStream: string;
  sipLogin: string;
  sipDomain: string;
  [k: string]: unknown;
}

let seq = 0;
/** A fresh call id / stream name pair for one test. */
export function callIds(label: string): { callId: string; toStream: string } {
  seq += 1;
  const id = `${label}-${process.pid}-${seq}-${Date.now().toString(36)}`;
  return { callId: id, toStream: `call-${id}` };
}

/** POST /call/startup; throws unless it answers 200 (with the server's answer in the message). */
export async function startCall(server: SipcastServer, body: CallStartup): Promise<void> {
  const r = await rest(server, 'call/startup', body);
  if (r.status !== 200) throw new Error(`/call/startup ${JSON.stringify(body)} answered ${r.status}: ${r.text}`);
}

export async function findCall(server: SipcastServer, callId: string): Promise<{ status: number; call: CallJson | null; text: string }> {
  const r = await rest<CallJson[]>(server, 'call/find', { callId });
  return { status: r.status, call: r.status === 200 && Array.isArray(r.json) ? (r.json[0] ?? null) : null, text: r.text };
}

export async function findStream(server: SipcastServer, name: string): Promise<StreamJson | null> {
  const r = await rest<StreamJson[]>(server, 'stream/find', { name });
  return r.status === 200 && Array.isArray(r.json) ? (r.json[0] ?? null) : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls /call/find until the call has `status`; throws (naming the statuses seen, the REST answer and the
 * call's status lines from the server log) when it ends or times out first.
 */
export async function waitCallStatus(server: SipcastServer, callId: string, status: string, timeoutMs = 15_000): Promise<CallJson> {
  const deadline = Date.now() + timeoutMs;
  const seen: string[] = [];
  let last = '';
  for (;;) {
    const r = await findCall(server, callId);
    last = `${r.status} ${r.text}`;
    if (r.call) {
      if (seen[seen.length - 1] !== r.call.status) seen.push(r.call.status);
      if (r.call.status === status) return r.call;
    }
    if (r.status === 404 && seen.length > 0) break; // ended
    if (Date.now() > deadline) break;
    await sleep(100);
  }
  throw new Error(
    `call ${callId}: no ${status} within ${timeoutMs} ms; /call/find statuses seen: ${seen.join(' -> ') || 'none'}; ` +
      `last answer: ${last}; server log: ${callLog(server, callId).join(' | ') || 'nothing'}`,
  );
}

/** Polls /call/find until it answers 404 for the call. */
export async function waitCallGone(server: SipcastServer, callId: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await findCall(server, callId);
    if (r.status === 404) return;
    last = `${r.status} ${r.text}`;
    if (Date.now() > deadline) {
      throw new Error(`call ${callId} still in /call/find after ${timeoutMs} ms: ${last}; server log: ${callLog(server, callId).join(' | ')}`);
    }
    await sleep(100);
  }
}

/** Server log lines (message part) that mention `call <callId>:`. */
export function callLog(server: SipcastServer, callId: string): string[] {
  const needle = `call ${callId}:`;
  return server
    .logs()
    .split('\n')
    .filter((l) => l.includes(needle))
    .map((l) => l.slice(l.indexOf(needle)));
}

const CALL_STATUSES = 'NEW|PENDING|TRYING|RING|RING_MEDIA|SESSION_PROGRESS|ESTABLISHED|HOLD|BUSY|FAILED|FINISH';

/** The call's status changes as logged by the server (`call <id>: <STATUS>`), in order. */
export function loggedStatuses(server: SipcastServer, callId: string): string[] {
  const re = new RegExp(`^call ${escapeRe(callId)}: (${CALL_STATUSES})$`);
  return callLog(server, callId)
    .map((l) => re.exec(l.trim())?.[1])
    .filter((s): s is string => s !== undefined);
}

/** Waits until the server has logged the final status of the call (BUSY, FAILED or FINISH); returns it. */
export async function waitLoggedEnd(server: SipcastServer, callId: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const end = loggedStatuses(server, callId).find((s) => s === 'BUSY' || s === 'FAILED' || s === 'FINISH');
    if (end) return end;
    if (Date.now() > deadline) {
      throw new Error(`call ${callId}: no final status logged within ${timeoutMs} ms; server log: ${callLog(server, callId).join(' | ') || 'nothing'}`);
    }
    await sleep(100);
  }
}

/** Waits for a server log line matching `re`; returns the match. */
export async function waitServerLog(server: SipcastServer, re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of server.logs().split('\n')) {
      const m = re.exec(line);
      if (m) return m;
    }
    if (Date.now() > deadline) throw new Error(`server log: no line matching ${re} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Opens the Player page (instrumented) for `streamName`; with `autoplay` it starts at once. */
export async function openPlayer(page: Page, server: SipcastServer, streamName: string, autoplay = true): Promise<void> {
  await instrumentPage(page);
  const q = `streamName=${encodeURIComponent(streamName)}${autoplay ? '&autoplay' : ''}`;
  await page.goto(`${server.httpUrl}/player/?${q}`, { waitUntil: 'domcontentloaded' });
}

interface PlayerGlobal {
  session: { status(): string } | null;
  stream: { status(): string; getInfo(): string } | null;
}

/** The Player page's SDK objects: session and stream status and the stream's info. */
export async function playerState(page: Page): Promise<{ session: string | null; stream: string | null; info: string | null }> {
  return page.evaluate(() => {
    const p = (window as unknown as { player?: PlayerGlobal }).player;
    return {
      session: p?.session?.status() ?? null,
      stream: p?.stream?.status() ?? null,
      info: p?.stream?.getInfo() ?? null,
    };
  });
}
