/**
 * Test helpers: a connected session against the fake WebSocket.
 *
 * @packageDocumentation
 */
import { createSession, init } from '../api';
import type { Session } from '../Session';
import type { CreateSessionOptions } from '../types';
import { FakeWebSocket, flush } from './fakes';

/** Initialises the API quietly (idempotent). */
export function initQuiet(): void {
  void init({ logger: null });
}

/** Creates a session, opens its socket and answers `getUserData`. */
export async function connectedSession(
  options: Partial<CreateSessionOptions> = {},
  userData: Record<string, unknown> = { sessionId: 'srv-1', authToken: 'tok-1' },
): Promise<{ session: Session; ws: FakeWebSocket }> {
  initQuiet();
  const session = createSession({ urlServer: 'ws://sipcast.test:8080', ...options });
  const ws = FakeWebSocket.last();
  ws.serverOpen();
  ws.serverSend('getUserData', userData);
  await flush();
  return { session, ws };
}
