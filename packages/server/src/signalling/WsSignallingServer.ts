import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../util/Logger.js';
import type { PlaybackService } from '../webrtc/PlaybackService.js';
import { ClientSession } from './ClientSession.js';

export interface WsSignallingOptions {
  readonly host: string;
  readonly port: number;
  /** Server pings this often; a client that misses `maxMissedPongs` in a row is dropped. */
  readonly pingIntervalMs: number;
  readonly maxMissedPongs: number;
  /** When set, `connection` must carry it as `authToken`. */
  readonly token: string;
}

const MAX_FRAME_BYTES = 256 * 1024;

/** The WebSocket endpoint: one ClientSession per socket; keep-alive pings. */
export class WsSignallingServer {
  readonly #wss: WebSocketServer;
  readonly #sessions = new Set<ClientSession>();
  readonly #log: Logger;

  private constructor(wss: WebSocketServer, playback: PlaybackService, opts: WsSignallingOptions, log: Logger) {
    this.#wss = wss;
    this.#log = log;
    wss.on('connection', (ws, req) => this.#accept(ws, req, playback, opts));
  }

  static listen(playback: PlaybackService, opts: WsSignallingOptions, log: Logger): Promise<WsSignallingServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({ host: opts.host, port: opts.port, maxPayload: MAX_FRAME_BYTES });
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        wss.on('error', (err) => log.error(`websocket server: ${err.message}`));
        resolve(new WsSignallingServer(wss, playback, opts, log));
      });
    });
  }

  get port(): number {
    const addr = this.#wss.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    return new Promise((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(ws: WebSocket, req: IncomingMessage, playback: PlaybackService, opts: WsSignallingOptions): void {
    const send = (frame: { message: string; data: unknown[] }): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
    };
    const session = new ClientSession(send, playback, this.#log, {
      requiredToken: opts.token,
      onUnauthorized: () => setTimeout(() => ws.close(4003, 'Restricted access'), 50),
    });
    this.#sessions.add(session);
    this.#log.info(`session ${session.id} opened from ${req.socket.remoteAddress}:${req.socket.remotePort}`);
    let missed = 0;
    const ping = setInterval(() => {
      if (missed >= opts.maxMissedPongs) {
        this.#log.info(`session ${session.id}: no pong, closing`);
        ws.terminate();
        return;
      }
      missed++;
      send({ message: 'ping', data: [] });
    }, opts.pingIntervalMs);
    ws.on('message', (raw, isBinary) => {
      missed = 0;
      if (isBinary) {
        send({ message: 'fail', data: [{ apiMethod: 'unknown', id: null, info: 'Binary frames are not supported' }] });
        return;
      }
      session.handleFrame(raw.toString());
    });
    ws.on('error', (err) => this.#log.debug(`session ${session.id}: socket error ${err.message}`));
    ws.on('close', (code) => {
      clearInterval(ping);
      session.close();
      this.#sessions.delete(session);
      this.#log.info(`session ${session.id} closed (${code})`);
    });
  }
}
