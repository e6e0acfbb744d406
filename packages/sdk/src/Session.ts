import { ERROR_INFO, SESSION_STATUS, type SessionStatus } from './constants';
import { EnhancedEventEmitter, type Listener } from './EnhancedEventEmitter';
import { InvalidStateError, MissingOptionError, RequestError } from './errors';
import type { Logger } from './Logger';
import { SignallingClient } from './SignallingClient';
import { Stream, type StreamHost } from './Stream';
import type {
  AppDataEvent,
  CreateSessionOptions,
  DataStatusEvent,
  FailEvent,
  SessionEventMap,
  StreamEvent,
  StreamOptions,
  StreamStatusEvent,
  UserData,
} from './types';
import { uuid } from './uuid';

/** Version string sent as `clientVersion` (the Flashphoner SDK line this mirrors). */
export const CLIENT_VERSION = '2.0';

const LOG = 'session';

type Obj = Record<string, unknown>;

function asObject(value: unknown): Obj | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
}

/**
 * A connection to a sipcast (or Flashphoner WCS) server: the Flashphoner
 * `Session`, made by `createSession()`.
 *
 * Status: PENDING -> CONNECTED (socket open) -> ESTABLISHED (server accepted
 * `connection`) -> DISCONNECTED; FAILED on socket error, connect timeout or
 * missed keep-alives (and then no DISCONNECTED). On DISCONNECTED or FAILED
 * every stream of the session becomes FAILED.
 */
export class Session extends EnhancedEventEmitter<SessionEventMap> {
  private readonly id_ = uuid();
  private status_: SessionStatus = SESSION_STATUS.PENDING;
  private readonly streams = new Map<string, Stream>();
  private readonly pendingData = new Map<string, { resolve: (v: DataStatusEvent) => void; reject: (r: DataStatusEvent | Error) => void }>();
  private readonly signalling: SignallingClient;
  private authToken: string | undefined;
  private userData: UserData | undefined;
  private readonly host: StreamHost;

  /**
   * Use `createSession()`.
   * @internal
   */
  constructor(
    private readonly options: CreateSessionOptions,
    private readonly logger: Logger,
    private readonly onEnd: (session: Session) => void,
  ) {
    super();
    this.authToken = options.authToken;
    this.host = {
      send: (message, data) => this.signalling.send(message, data),
      mediaOptions: options.mediaOptions,
      logger,
      release: (stream) => {
        this.streams.delete(stream.id());
      },
    };
    this.signalling = new SignallingClient(options.urlServer, {
      timeout: options.timeout ?? 0,
      pingInterval: options.pingInterval ?? 0,
      receiveProbes: options.receiveProbes ?? 0,
      probesInterval: options.probesInterval ?? 0,
      logger,
    });
    this.signalling.addListener('open', () => this.handleOpen());
    this.signalling.addListener('message', (name, data) => this.handleMessage(name, data));
    this.signalling.addListener('failed', () => this.end(SESSION_STATUS.FAILED));
    this.signalling.addListener('closed', () => this.end(SESSION_STATUS.DISCONNECTED));
  }

  /** Client-side session id (a UUID). */
  id(): string {
    return this.id_;
  }

  /** Current status, a {@link SESSION_STATUS} value. */
  status(): SessionStatus {
    return this.status_;
  }

  /** The `urlServer` the session connects to. */
  getServerUrl(): string {
    return this.options.urlServer;
  }

  /** The token the server gave in `getUserData` (else the one given to `createSession`). */
  getAuthToken(): string | undefined {
    return this.authToken;
  }

  /** The object the server sent in `getUserData` (it includes `sessionId`). */
  getUserData(): UserData | undefined {
    return this.userData;
  }

  /**
   * Flashphoner `on()`: sets THE callback of `event`; a later `on()` for the
   * same event replaces it. Use {@link addListener} for several listeners.
   *
   * @throws TypeError "Event can't be null"; Error "Callback needs to be a valid function".
   * @returns this, for chaining.
   */
  on<K extends keyof SessionEventMap & string>(event: K, callback: Listener<SessionEventMap, K>): this {
    this.replaceListener(event, callback);
    return this;
  }

  /**
   * Creates a stream to play.
   *
   * @throws Error "Invalid session state" unless ESTABLISHED.
   * @throws TypeError "options must be provided" / "options.name must be provided".
   */
  createStream(options: StreamOptions): Stream {
    if (this.status_ !== SESSION_STATUS.ESTABLISHED) {
      throw new InvalidStateError(ERROR_INFO.INVALID_SESSION_STATE);
    }
    if (!options) {
      throw new MissingOptionError(ERROR_INFO.OPTIONS_MUST_BE_PROVIDED);
    }
    if (!options.name) {
      throw new MissingOptionError(ERROR_INFO.OPTIONS_NAME_MUST_BE_PROVIDED);
    }
    const stream = new Stream(this.host, options);
    this.streams.set(stream.id(), stream);
    return stream;
  }

  /** A stream of this session by id (released streams are gone). */
  getStream(id: string): Stream | undefined {
    return this.streams.get(id);
  }

  /** The streams of this session that are not released. */
  getStreams(): Stream[] {
    return Array.from(this.streams.values());
  }

  /**
   * Sends data to the server application (`sendData`). Resolves with the
   * server's DataStatusEvent when ACCEPTED; rejects with it when FAILED, or
   * with an Error if the session is not connected or closes first.
   */
  sendData(payload: unknown): Promise<DataStatusEvent> {
    return new Promise<DataStatusEvent>((resolve, reject) => {
      const operationId = uuid();
      if (!this.signalling.send('sendData', { operationId, payload })) {
        reject(new RequestError(ERROR_INFO.INVALID_SESSION_STATE));
        return;
      }
      this.pendingData.set(operationId, { resolve, reject });
    });
  }

  /** Closes the connection; DISCONNECTED follows when the socket closes. */
  disconnect(): void {
    this.signalling.close();
  }

  // ---- signalling ----

  private setStatus(status: SessionStatus, ...extra: [] | [UserData]): void {
    this.status_ = status;
    this.logger.info(LOG, `${this.id_} ${status}`);
    if (status === SESSION_STATUS.ESTABLISHED) {
      this.safeEmit(SESSION_STATUS.ESTABLISHED, this, extra[0] ?? {});
    } else if (
      status === SESSION_STATUS.CONNECTED ||
      status === SESSION_STATUS.DISCONNECTED ||
      status === SESSION_STATUS.FAILED ||
      status === SESSION_STATUS.REGISTERED
    ) {
      this.safeEmit(status, this);
    }
  }

  private handleOpen(): void {
    this.setStatus(SESSION_STATUS.CONNECTED);
    const nav: Partial<Navigator> = typeof navigator === 'undefined' ? {} : navigator;
    const connection: Obj = {
      appKey: this.options.appKey || 'defaultApp',
      mediaProviders: ['WebRTC'],
      keepAlive: this.options.keepAlive,
      authToken: this.authToken,
      clientVersion: CLIENT_VERSION,
      clientOSVersion: nav.appVersion,
      clientBrowserVersion: nav.userAgent,
      custom: this.options.custom,
    };
    const sip = this.options.sipOptions;
    if (sip) {
      Object.assign(connection, {
        sipLogin: sip.login,
        sipAuthenticationName: sip.authenticationName,
        sipPassword: sip.password,
        sipDomain: sip.domain,
        sipOutboundProxy: sip.outboundProxy,
        sipProxy: sip.proxy,
        sipPort: sip.port,
        sipRegisterRequired: sip.registerRequired,
      });
    }
    this.signalling.send('connection', connection);
  }

  private handleMessage(name: string, data: unknown[]): void {
    const obj = asObject(data[0]);
    switch (name) {
      case 'getUserData': {
        const userData = (obj ?? {}) as UserData;
        this.userData = userData;
        if (typeof userData.authToken === 'string') this.authToken = userData.authToken;
        this.setStatus(SESSION_STATUS.ESTABLISHED, userData);
        break;
      }
      case 'setRemoteSDP': {
        const stream = typeof data[0] === 'string' ? this.streams.get(data[0]) : undefined;
        if (stream && typeof data[1] === 'string') stream.handleRemoteSdp(data[1]);
        else this.logger.info(LOG, `setRemoteSDP for unknown stream ${String(data[0])}`);
        break;
      }
      case 'notifyStreamStatusEvent':
      case 'notifyVideoFormat':
        this.route(obj?.['mediaSessionId'], (s) => s.handleStatusEvent(obj as Partial<StreamStatusEvent>));
        break;
      case 'notifyStreamEvent':
        this.route(obj?.['mediaSessionId'], (s) => s.handleStreamEvent(obj as unknown as StreamEvent));
        break;
      case 'availableStream':
        this.route(obj?.['id'], (s) =>
          s.handleAvailable(String(obj?.['status']) === 'true', typeof obj?.['info'] === 'string' ? obj['info'] : undefined),
        );
        break;
      case 'DataStatusEvent':
        this.handleDataStatus(obj);
        break;
      case 'OnDataEvent':
        this.safeEmit(SESSION_STATUS.APP_DATA, (obj ?? {}) as AppDataEvent);
        break;
      case 'fail': {
        const fail = (obj ?? {}) as FailEvent;
        this.route(fail.id, (s) => s.handleFail(fail), true);
        this.safeEmit(SESSION_STATUS.WARN, fail);
        break;
      }
      case 'notifySessionDebugEvent':
        this.safeEmit(SESSION_STATUS.DEBUG, obj ?? {});
        break;
      case 'registered':
        this.setStatus(SESSION_STATUS.REGISTERED);
        break;
      default:
        this.logger.debug(LOG, `unhandled server message ${name}`);
    }
  }

  private route(id: unknown, handler: (stream: Stream) => void, quiet = false): void {
    const stream = typeof id === 'string' ? this.streams.get(id) : undefined;
    if (stream) handler(stream);
    else if (!quiet) this.logger.debug(LOG, `message for unknown stream ${String(id)}`);
  }

  private handleDataStatus(obj: Obj | undefined): void {
    const operationId = obj?.['operationId'];
    const pending = typeof operationId === 'string' ? this.pendingData.get(operationId) : undefined;
    const status = { ...obj } as DataStatusEvent;
    delete status.operationId;
    if (pending && typeof operationId === 'string') {
      this.pendingData.delete(operationId);
      if (status.status === 'ACCEPTED') pending.resolve(status);
      else pending.reject(status);
    }
    this.safeEmit(SESSION_STATUS.SEND_DATA_STATUS, status);
  }

  private end(status: 'DISCONNECTED' | 'FAILED'): void {
    if (this.status_ === SESSION_STATUS.DISCONNECTED || this.status_ === SESSION_STATUS.FAILED) return;
    this.status_ = status;
    for (const stream of Array.from(this.streams.values())) {
      stream.handleSessionClosed();
    }
    this.streams.clear();
    const pending = Array.from(this.pendingData.values());
    this.pendingData.clear();
    pending.forEach((p) => p.reject(new RequestError(`Session ${status.toLowerCase()}`)));
    this.onEnd(this);
    this.setStatus(status);
  }

  /** Logs listener exceptions with the session logger. */
  protected override onListenerError(event: string, error: unknown): void {
    this.logger.error(LOG, `listener of ${event} threw`, error);
  }
}
