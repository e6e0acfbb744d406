import type { IncomingMessage } from 'node:http';
import { CallManager } from './call/CallManager.js';
import { SipMediaLeg } from './call/SipMediaLeg.js';
import type { Settings } from './config/Settings.js';
import { DemoCallee } from './democallee/DemoCallee.js';
import { createEgress, type Egress } from './egress/createEgress.js';
import { addCallRoutes } from './http/callRoutes.js';
import { HttpServer } from './http/HttpServer.js';
import { RequestValidator } from './http/RequestValidator.js';
import { StaticFiles } from './http/StaticFiles.js';
import { addStreamRoutes } from './http/streamRoutes.js';
import type { Clip } from './media/clip/ClipFormat.js';
import { loadClip } from './media/clip/ClipFormat.js';
import { DemoSource } from './media/DemoSource.js';
import { StreamRegistry } from './registry/StreamRegistry.js';
import { WsSignallingServer } from './signalling/WsSignallingServer.js';
import { SipUserAgent } from './sip/ua/index.js';
import { Logger } from './util/Logger.js';
import { PlaybackService } from './webrtc/PlaybackService.js';

/** Name of the built-in demo stream. */
export const DEMO_STREAM_NAME = 'demo';

/** The composition root: wires registry, playback, SIP calls, signalling, HTTP and the demos. */
export class SipcastServer {
  readonly settings: Settings;
  readonly log: Logger;
  readonly registry = new StreamRegistry();
  readonly playback: PlaybackService;
  #calls: CallManager | undefined;
  #ua: SipUserAgent | undefined;
  #ws: WsSignallingServer | undefined;
  #http: HttpServer | undefined;
  #egress: Egress | undefined;
  #demo: DemoSource | undefined;
  #demoCallee: DemoCallee | undefined;
  #clip: Clip | undefined;

  constructor(settings: Settings, log = new Logger(settings.logLevel)) {
    this.settings = settings;
    this.log = log;
    this.playback = new PlaybackService(this.registry, settings.webrtc);
  }

  async start(): Promise<void> {
    const s = this.settings;
    const streamLog = this.log.child('stream');
    this.registry.on('created', (stream) =>
      stream.on('sinkError', (sinkId, err) => streamLog.warn(`${stream.name}: sink ${sinkId} failed: ${(err as Error).message ?? String(err)}`)),
    );
    this.#ua = await SipUserAgent.create({
      bindAddress: s.call.sipBindAddress,
      port: s.call.sipPort,
      publicAddress: s.call.sipPublicAddress,
      userAgent: 'sipcast',
      log: this.log.child('sip'),
    });
    this.#calls = new CallManager(this.registry, { agent: this.#ua, media: SipMediaLeg.factory(s.call, this.log.child('rtp')) }, s.call, this.log.child('call'));
    this.#ws = await WsSignallingServer.listen(
      this.playback,
      { host: s.bind, port: s.wsPort, pingIntervalMs: s.pingIntervalMs, maxMissedPongs: 3, token: s.wsToken },
      this.log.child('ws'),
    );
    const egress = createEgress(this.registry, s.egress, this.log.child('egress'));
    this.#egress = egress;
    const http = new HttpServer(
      {
        handlers: [(req, res, path) => egress.handleRecordsDownload(req, res, path)],
        host: s.bind,
        port: s.httpPort,
        indexPath: '/index.html',
        restToken: s.restToken,
        corsOrigins: s.corsOrigins,
        mounts: [new StaticFiles('/sdk/', s.sdkDist), new StaticFiles('/', s.webRoot)],
        pageConfig: (req) => ({ urlServer: `ws://${hostOf(req)}:${this.wsPort}`, demoCallee: this.demoCalleeUri }),
      },
      this.log.child('http'),
    );
    const validator = new RequestValidator();
    addStreamRoutes(http.api, this.registry, egress.recorders);
    egress.addRoutes(http.api, validator, (req, res) => http.authorize(req, res));
    addCallRoutes(http.api, validator, this.#calls, this.registry, egress.pushes);
    await http.listen();
    this.#http = http;
    if (s.demo || s.demoCallee) this.#clip = loadClip(s.demoClip);
    if (s.demo) this.#startDemo();
    if (s.demoCallee) {
      this.#demoCallee = await DemoCallee.start(this.#clip!, {
        bindAddress: s.call.sipBindAddress,
        port: s.demoCalleePort,
        rtpPortMin: s.call.rtpPortMin,
        rtpPortMax: s.call.rtpPortMax,
        log: this.log.child('demo-callee'),
      });
    }
  }

  get wsPort(): number {
    return this.#ws?.port ?? 0;
  }
  get httpPort(): number {
    return this.#http?.port ?? 0;
  }
  get sipPort(): number {
    return this.#ua?.port ?? 0;
  }
  /** RTMP pushes and recordings. */
  get egress(): Egress | undefined {
    return this.#egress;
  }
  get calls(): CallManager | undefined {
    return this.#calls;
  }
  /** `sip:demo@host:port` of the built-in demo callee, when it runs. */
  get demoCalleeUri(): string | undefined {
    return this.#demoCallee ? `sip:demo@${this.settings.call.sipPublicAddress}:${this.#demoCallee.port}` : undefined;
  }

  async stop(): Promise<void> {
    // first: recordings are finalised while their streams still run
    await this.#egress?.stop();
    this.#demo?.stop();
    this.#calls?.terminateAll();
    // Sockets go first: to a client a stopped server is a lost connection (its streams FAIL),
    // not a publisher that stopped.
    await Promise.all([this.#ws?.close(), this.#http?.close()]);
    await Promise.all([this.#ua?.close(), this.#demoCallee?.stop()]);
    this.registry.endAll('Stopped by publisher stop');
  }

  #startDemo(): void {
    const stream = this.registry.create(DEMO_STREAM_NAME, 'demo');
    const demo = new DemoSource(this.#clip!, { audioCodec: 'opus' });
    demo.start(stream);
    this.#demo = demo;
  }
}

function hostOf(req: IncomingMessage): string {
  const host = req.headers.host ?? '127.0.0.1';
  const m = /^(\[[^\]]+\]|[^:]+)/.exec(host);
  return m?.[1] ?? '127.0.0.1';
}
