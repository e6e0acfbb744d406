/**
 * Hand-written minimal fakes of the browser APIs the SDK touches (WebSocket,
 * RTCPeerConnection, MediaStream, document, `<video>`, navigator), installed
 * on globalThis by unit tests. Not part of the bundle.
 *
 * @packageDocumentation
 */

type Handler = (event: never) => void;

/** A parsed client frame. */
export interface Frame {
  message: string;
  data: unknown[];
}

/** Fake WebSocket: the test plays the server. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState = 0;
  readonly sent: string[] = [];
  closeCalls: Array<number | undefined> = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  /** The most recently created socket. */
  static last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!ws) throw new Error('no FakeWebSocket created');
    return ws;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError: send on a socket that is not open');
    this.sent.push(data);
  }

  /** Like a browser: CLOSED at once, `close` event later. */
  close(code?: number): void {
    this.closeCalls.push(code);
    if (this.readyState === 3) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code: code ?? 1005 }));
  }

  // ---- server side ----

  /** The server accepts the connection. */
  serverOpen(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** The server sends `{message, data}`. */
  serverSend(message: string, ...data: unknown[]): void {
    this.onmessage?.({ data: JSON.stringify({ message, data }) });
  }

  /** The server sends a raw text frame. */
  serverSendRaw(text: string): void {
    this.onmessage?.({ data: text });
  }

  /** A socket error, followed (like browsers) by a close. */
  serverError(): void {
    this.onerror?.({});
    if (this.readyState !== 3) {
      this.readyState = 3;
      this.onclose?.({ code: 1006 });
    }
  }

  /** The server closes the socket. */
  serverClose(code = 1000): void {
    this.readyState = 3;
    this.onclose?.({ code });
  }

  /** Frames the client sent, parsed. */
  frames(): Frame[] {
    return this.sent.map((s) => JSON.parse(s) as Frame);
  }

  /** Frames the client sent with this message name. */
  framesNamed(message: string): Frame[] {
    return this.frames().filter((f) => f.message === message);
  }

  /** data[0] of the last frame with this name. */
  lastData(message: string): Record<string, unknown> {
    const list = this.framesNamed(message);
    const frame = list[list.length - 1];
    if (!frame) throw new Error(`no "${message}" frame sent; sent: ${this.frames().map((f) => f.message).join(',')}`);
    return frame.data[0] as Record<string, unknown>;
  }
}

/** Fake MediaStreamTrack. */
export class FakeTrack {
  private static next = 0;
  readonly id = `track-${FakeTrack.next++}`;
  stopped = false;
  constructor(readonly kind: 'audio' | 'video') {}
  stop(): void {
    this.stopped = true;
  }
}

/** Fake MediaStream. */
export class FakeMediaStream {
  private readonly tracks: FakeTrack[] = [];
  addTrack(track: FakeTrack): void {
    this.tracks.push(track);
  }
  getTracks(): FakeTrack[] {
    return [...this.tracks];
  }
  getAudioTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks(): FakeTrack[] {
    return this.tracks.filter((t) => t.kind === 'video');
  }
}

/** Fake RTCRtpReceiver; `playoutDelayHint` / `jitterBufferTarget` present as chosen. */
export class FakeReceiver {
  constructor(readonly track: FakeTrack) {}
}

/** A Chromium-like recvonly offer for the given kinds. */
export function chromeLikeOffer(kinds: Array<'audio' | 'video'>): string {
  const lines = [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${kinds.map((_, i) => i).join(' ')}`,
    'a=extmap-allow-mixed',
    'a=msid-semantic: WMS',
  ];
  kinds.forEach((kind, mid) => {
    if (kind === 'audio') {
      lines.push(
        'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
        'c=IN IP4 0.0.0.0',
        'a=rtcp:9 IN IP4 0.0.0.0',
        'a=ice-ufrag:abcd',
        'a=ice-pwd:abcdefghijklmnopqrstuvwx',
        'a=ice-options:trickle',
        'a=fingerprint:sha-256 00:11:22',
        'a=setup:actpass',
        `a=mid:${mid}`,
        'a=recvonly',
        'a=rtcp-mux',
        'a=rtpmap:111 opus/48000/2',
        'a=rtcp-fb:111 transport-cc',
        'a=fmtp:111 minptime=10;useinbandfec=1',
        'a=rtpmap:63 red/48000/2',
        'a=fmtp:63 111/111',
        'a=rtpmap:9 G722/8000',
        'a=rtpmap:0 PCMU/8000',
        'a=rtpmap:8 PCMA/8000',
        'a=rtpmap:13 CN/8000',
        'a=rtpmap:110 telephone-event/48000',
        'a=rtpmap:126 telephone-event/8000',
      );
    } else {
      lines.push(
        'm=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 108 109 98 99',
        'c=IN IP4 0.0.0.0',
        'a=rtcp:9 IN IP4 0.0.0.0',
        'a=ice-ufrag:abcd',
        'a=ice-pwd:abcdefghijklmnopqrstuvwx',
        'a=ice-options:trickle',
        'a=fingerprint:sha-256 00:11:22',
        'a=setup:actpass',
        `a=mid:${mid}`,
        'a=recvonly',
        'a=rtcp-mux',
        'a=rtcp-rsize',
        'a=rtpmap:96 VP8/90000',
        'a=rtcp-fb:96 goog-remb',
        'a=rtcp-fb:96 nack',
        'a=rtpmap:97 rtx/90000',
        'a=fmtp:97 apt=96',
        'a=rtpmap:102 H264/90000',
        'a=rtcp-fb:102 nack pli',
        'a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f',
        'a=rtpmap:103 rtx/90000',
        'a=fmtp:103 apt=102',
        'a=rtpmap:108 H264/90000',
        'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        'a=rtpmap:109 rtx/90000',
        'a=fmtp:109 apt=108',
        'a=rtpmap:98 VP9/90000',
        'a=fmtp:98 profile-id=0',
        'a=rtpmap:99 rtx/90000',
        'a=fmtp:99 apt=98',
      );
    }
  });
  return lines.join('\r\n') + '\r\n';
}

/** The answer a sipcast server would send: opus 111 and H264 108. */
export function serverAnswer(): string {
  return (
    [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      't=0 0',
      'a=group:BUNDLE 0 1',
      'm=audio 40000 UDP/TLS/RTP/SAVPF 111',
      'c=IN IP4 127.0.0.1',
      'a=mid:0',
      'a=sendonly',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 minptime=10;useinbandfec=1',
      'a=candidate:1 1 UDP 2114977791 127.0.0.1 40000 typ host',
      'a=end-of-candidates',
      'm=video 40000 UDP/TLS/RTP/SAVPF 108',
      'c=IN IP4 127.0.0.1',
      'a=mid:1',
      'a=sendonly',
      'a=rtpmap:108 H264/90000',
      'a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
    ].join('\r\n') + '\r\n'
  );
}

/** Fake RTCPeerConnection. */
export class FakeRTCPeerConnection {
  static instances: FakeRTCPeerConnection[] = [];
  /** Makes the next setRemoteDescription reject with this error. */
  static failNextRemoteDescription: Error | undefined;
  /** Receivers get a `jitterBufferTarget` (else a `playoutDelayHint`). */
  static receiverHasJitterBufferTarget = true;
  /** The report getStats() returns. */
  static statsReport: Map<string, Record<string, unknown>> = new Map();

  readonly transceivers: Array<{ kind: string; direction: string }> = [];
  readonly receivers: Array<FakeReceiver & Record<string, unknown>> = [];
  localDescription: { type: string; sdp: string } | null = null;
  remoteDescription: { type: string; sdp: string } | null = null;
  currentRemoteDescription: { type: string; sdp: string } | null = null;
  signalingState = 'stable';
  iceConnectionState = 'new';
  connectionState = 'new';
  closed = false;
  readonly legacyConstraints: unknown;
  ontrack: ((event: { track: FakeTrack; receiver: FakeReceiver; streams: FakeMediaStream[] }) => void) | null = null;
  oniceconnectionstatechange: Handler | null = null;
  onconnectionstatechange: Handler | null = null;

  constructor(
    readonly configuration: Record<string, unknown>,
    ...legacy: unknown[]
  ) {
    this.legacyConstraints = legacy[0];
    FakeRTCPeerConnection.instances.push(this);
  }

  static last(): FakeRTCPeerConnection {
    const pc = FakeRTCPeerConnection.instances[FakeRTCPeerConnection.instances.length - 1];
    if (!pc) throw new Error('no FakeRTCPeerConnection created');
    return pc;
  }

  addTransceiver(kind: string, init: { direction: string }): void {
    this.transceivers.push({ kind, direction: init.direction });
  }

  async createOffer(): Promise<{ type: string; sdp: string }> {
    return { type: 'offer', sdp: chromeLikeOffer(this.transceivers.map((t) => t.kind as 'audio' | 'video')) };
  }

  async setLocalDescription(description: { type: string; sdp: string }): Promise<void> {
    this.localDescription = { ...description };
    this.signalingState = 'have-local-offer';
  }

  async setRemoteDescription(description: { type: string; sdp: string }): Promise<void> {
    const failure = FakeRTCPeerConnection.failNextRemoteDescription;
    if (failure) {
      FakeRTCPeerConnection.failNextRemoteDescription = undefined;
      throw failure;
    }
    if (this.signalingState !== 'have-local-offer' || description.type !== 'answer') {
      throw new Error(`InvalidStateError: ${description.type} in ${this.signalingState}`);
    }
    this.remoteDescription = { ...description };
    this.currentRemoteDescription = { ...description };
    this.signalingState = 'stable';
  }

  getReceivers(): FakeReceiver[] {
    return this.receivers;
  }

  async getStats(): Promise<Map<string, Record<string, unknown>>> {
    return FakeRTCPeerConnection.statsReport;
  }

  close(): void {
    this.closed = true;
    this.signalingState = 'closed';
  }

  /** The remote side sends a track of `kind`. */
  fireTrack(kind: 'audio' | 'video'): { track: FakeTrack; receiver: FakeReceiver & Record<string, unknown> } {
    const track = new FakeTrack(kind);
    const receiver = new FakeReceiver(track) as FakeReceiver & Record<string, unknown>;
    if (FakeRTCPeerConnection.receiverHasJitterBufferTarget) receiver['jitterBufferTarget'] = null;
    else receiver['playoutDelayHint'] = undefined;
    this.receivers.push(receiver);
    this.ontrack?.({ track, receiver, streams: [] });
    return { track, receiver };
  }
}

type Listener = (event: { type: string }) => void;

/** Fake DOM element. */
export class FakeElement {
  id = '';
  readonly children: FakeElement[] = [];
  readonly attributes = new Map<string, string>();
  parent: FakeElement | undefined;
  protected readonly listeners = new Map<string, Array<{ fn: Listener; once: boolean }>>();

  constructor(readonly tagName: string) {}

  appendChild(child: FakeElement): FakeElement {
    child.parent = this;
    this.children.push(child);
    return child;
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  removeAttribute(name: string): void {
    this.attributes.delete(name);
  }
  hasAttribute(name: string): boolean {
    return this.attributes.has(name);
  }
  addEventListener(type: string, fn: Listener, options?: { once?: boolean } | boolean): void {
    const list = this.listeners.get(type) ?? [];
    list.push({ fn, once: typeof options === 'object' && options.once === true });
    this.listeners.set(type, list);
  }
  removeEventListener(type: string, fn: Listener): void {
    this.listeners.set(
      type,
      (this.listeners.get(type) ?? []).filter((l) => l.fn !== fn),
    );
  }
  dispatch(type: string): void {
    const list = this.listeners.get(type) ?? [];
    this.listeners.set(
      type,
      list.filter((l) => !l.once),
    );
    list.forEach((l) => l.fn({ type }));
  }
  listenerCount(type: string): number {
    return (this.listeners.get(type) ?? []).length;
  }
}

/** How a fake `<video>`'s play() behaves. */
export type AutoplayPolicy = 'allow' | 'muted-only';

/** Fake `<video>`. */
export class FakeVideoElement extends FakeElement {
  static autoplayPolicy: AutoplayPolicy = 'allow';
  /** A user gesture happened (sticky activation). */
  static userActivated = false;
  muted = false;
  volume = 1;
  srcObject: FakeMediaStream | null = null;
  src = '';
  readyState = 0;
  paused = true;
  videoWidth = 0;
  videoHeight = 0;
  playCalls: Array<{ muted: boolean; result: 'ok' | 'NotAllowedError' }> = [];
  sinkId = '';

  constructor() {
    super('VIDEO');
  }

  play(): Promise<void> {
    const refused =
      FakeVideoElement.autoplayPolicy === 'muted-only' && !this.muted && !FakeVideoElement.userActivated;
    this.playCalls.push({ muted: this.muted, result: refused ? 'NotAllowedError' : 'ok' });
    if (refused) {
      const error = new Error('play() failed because the user did not interact with the document first.');
      error.name = 'NotAllowedError';
      return Promise.reject(error);
    }
    this.paused = false;
    return Promise.resolve();
  }
  pause(): void {
    this.paused = true;
  }
  setSinkId(id: string): Promise<void> {
    this.sinkId = id;
    return Promise.resolve();
  }
  requestFullscreen(): Promise<void> {
    fakeDocument.fullscreenElement = this;
    return Promise.resolve();
  }
  /** Metadata arrived (after srcObject got tracks). */
  loadMetadata(width = 640, height = 360): void {
    this.readyState = 1;
    this.videoWidth = width;
    this.videoHeight = height;
    this.dispatch('loadedmetadata');
  }
}

/** Fake document. */
export class FakeDocument extends FakeElement {
  fullscreenElement: FakeElement | null = null;
  readonly created: FakeElement[] = [];
  constructor() {
    super('#document');
  }
  createElement(tag: string): FakeElement {
    const el = tag.toLowerCase() === 'video' ? new FakeVideoElement() : new FakeElement(tag.toUpperCase());
    this.created.push(el);
    return el;
  }
  exitFullscreen(): Promise<void> {
    this.fullscreenElement = null;
    return Promise.resolve();
  }
  /** A user gesture on the page. */
  gesture(type = 'click'): void {
    FakeVideoElement.userActivated = true;
    this.dispatch(type);
  }
}

let fakeDocument = new FakeDocument();

/** Installs fresh fakes on globalThis and resets their static state. */
export function installFakes(): { document: FakeDocument } {
  FakeWebSocket.instances = [];
  FakeRTCPeerConnection.instances = [];
  FakeRTCPeerConnection.failNextRemoteDescription = undefined;
  FakeRTCPeerConnection.receiverHasJitterBufferTarget = true;
  FakeRTCPeerConnection.statsReport = new Map();
  FakeVideoElement.autoplayPolicy = 'allow';
  FakeVideoElement.userActivated = false;
  fakeDocument = new FakeDocument();
  const g = globalThis as unknown as Record<string, unknown>;
  g['WebSocket'] = FakeWebSocket;
  g['RTCPeerConnection'] = FakeRTCPeerConnection;
  g['MediaStream'] = FakeMediaStream;
  g['document'] = fakeDocument;
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: 'FakeBrowser/1.0', appVersion: '5.0 (FakeOS)' },
    configurable: true,
    writable: true,
  });
  return { document: fakeDocument };
}

/** Lets pending promise chains run (uses setImmediate, which timer mocks leave alone). */
export function flush(): Promise<void> {
  const g = globalThis as unknown as { setImmediate: (callback: () => void) => void };
  return new Promise((resolve) => g.setImmediate(resolve));
}
