import type { IncomingMessage } from 'node:http';
import type { Settings } from './config/Settings.js';
import { HttpServer } from './http/HttpServer.js';
import { StaticFiles } from './http/StaticFiles.js';
import { addStreamRoutes } from './http/streamRoutes.js';
import { StreamRegistry } from './registry/StreamRegistry.js';
import { WsSignallingServer } from './signalling/WsSignallingServer.js';
import { Logger } from './util/Logger.js';
import { PlaybackService } from './webrtc/PlaybackService.js';

/** Name of the built-in demo stream. */
export const DEMO_STREAM_NAME = 'demo';

/** The composition root: wires registry, playback, signalling, HTTP and the demo source. */
export class SipcastServer {
  readonly settings: Settings;
  readonly log: Logger;
  readonly registry = new StreamRegistry();
  readonly playback: PlaybackService;
  #ws: WsSignallingServer | undefined;
  #http: HttpServer | undefined;
  #demo: { stop(): void } | undefined;

  constructor(settings: Settings, log = new Logger(settings.logLevel)) {
    this.settings = settings;
    this.log = log;
    this.playback = new PlaybackService(this.registry, settings.webrtc);
  }

  async start(): Promise<void> {
    const s = this.settings;
    this.#ws = await WsSignallingServer.listen(
      this.playback,
      { host: s.bind, port: s.wsPort, pingIntervalMs: s.pingIntervalMs, maxMissedPongs: 3, token: s.wsToken },
      this.log.child('ws'),
    );
    const http = new HttpServer(
      {
        host: s.bind,
        port: s.httpPort,
        indexPath: '/index.html',
        restToken: s.restToken,
        corsOrigins: s.corsOrigins,
        mounts: [new StaticFiles('/sdk/', s.sdkDist), new StaticFiles('/', s.webRoot)],
        pageConfig: (req) => ({ urlServer: `ws://${hostOf(req)}:${this.wsPort}` }),
      },
      this.log.child('http'),
    );
    addStreamRoutes(http.api, this.registry);
    await http.listen();
    this.#http = http;
    if (s.demo) await this.#startDemo();
  }

  get wsPort(): number {
    return this.#ws?.port ?? 0;
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  async stop(): Promise<void> {
    this.#demo?.stop();
    // Sockets go first: to a client a stopped server is a lost connection (its streams FAIL),
    // not a publisher that stopped.
    await Promise.all([this.#ws?.close(), this.#http?.close()]);
    this.registry.endAll('Stopped by publisher stop');
  }

  /** Loaded on demand so that a server without the demo never reads the clip. */
  async #startDemo(): Promise<void> {
    const [{ DemoSource }, { loadClip }] = await Promise.all([import('./media/DemoSource.js'), import('./media/clip/ClipFormat.js')]);
    const clip = loadClip(this.settings.demoClip);
    const stream = this.registry.create(DEMO_STREAM_NAME, 'demo');
    const demo = new DemoSource(clip, { audioCodec: 'opus' });
    demo.start(stream);
    this.#demo = demo;
  }
}

function hostOf(req: IncomingMessage): string {
  const host = req.headers.host ?? '127.0.0.1';
  const m = /^(\[[^\]]+\]|[^:]+)/.exec(host);
  return m?.[1] ?? '127.0.0.1';
}
