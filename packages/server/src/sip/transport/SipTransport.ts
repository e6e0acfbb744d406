/**
 * SIP transport layer (RFC 3261 §18) over UDP and TCP on one local address and port.
 *
 * Outgoing: messages go to already resolved endpoints; TCP connections are reused per remote
 * address and port (outbound ones we opened and inbound ones accepted on the listen port).
 * Incoming: datagrams and framed TCP streams are parsed; requests get `received`/`rport`
 * stamped on their top Via, responses whose top Via is not ours are dropped (§18.1.2), and
 * unparseable requests are answered `400 <reason>` statelessly when possible. Nothing a peer
 * sends can throw out of this class.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, isIPv6, type Server, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  formatVia,
  isKeepAlive,
  parseSipMessage,
  serializeSipMessage,
  SipParseError,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import type { Logger } from '../../util/Logger.js';
import { TypedEmitter } from '../../util/TypedEmitter.js';
import { describeMessage, startLineOf } from './describeMessage.js';
import { buildParseErrorResponse } from './errorResponse.js';
import { resolveHost, unbracket } from './resolveHost.js';
import { SipTransportError } from './SipTransportError.js';
import { TcpConnection } from './TcpConnection.js';
import type { SipEndpoint, SipHostTarget, SipSource, SipTransportProtocol } from './types.js';
import { responseTarget, SIP_DEFAULT_PORT, stampReceived, topVia } from './viaRouting.js';

/** Options for {@link SipTransport.create}. */
export interface SipTransportOptions {
  readonly log: Logger;
  /** Local address for the UDP socket and the TCP listener (default 127.0.0.1). */
  readonly bindAddress?: string;
  /** Local port for both, 0 = one ephemeral port free for UDP and TCP alike (default 0). */
  readonly port?: number;
  /** Host written into Via sent-by and Contact (default: the bind address, or a local IPv4 for a wildcard bind). */
  readonly publicAddress?: string;
  /** Server header of stateless error responses. */
  readonly serverName?: string;
  /** TCP connections without traffic for this long are closed (default 60 s). */
  readonly idleTimeoutMs?: number;
  /** Inbound TCP connections accepted per remote IP (default 16). */
  readonly maxConnectionsPerIp?: number;
  /** Inbound TCP connections accepted in total (default 1024). */
  readonly maxConnections?: number;
  /** Outbound TCP connect timeout (default 10 s). */
  readonly connectTimeoutMs?: number;
}

/** Event counters of a {@link SipTransport}. */
export interface SipTransportCounters {
  /** Messages received and parsed (both transports). */
  received: number;
  /** Messages (and stateless error responses) handed to the network. */
  sent: number;
  /** Sends that failed (unreachable, reset, resolution). */
  sendErrors: number;
  /** Datagrams or stream frames that failed to parse. */
  parseErrors: number;
  /** Of those, requests answered with a stateless 400/505/513. */
  badRequestsAnswered: number;
  /** Of those, messages dropped (responses, ACKs, nothing to address a reply with, lost framing). */
  badMessagesDropped: number;
  /** Responses whose top Via sent-by is not ours (RFC 3261 §18.1.2). */
  foreignResponsesDropped: number;
  /** Keep-alives seen (CRLF datagrams; TCP pings answered). */
  keepalives: number;
  /** Inbound TCP connections accepted. */
  tcpAccepted: number;
  /** Inbound TCP connections refused by the per-IP or total cap. */
  tcpRejected: number;
  /** Outbound TCP connections opened. */
  tcpConnected: number;
  /** TCP connections closed for idleness. */
  tcpIdleClosed: number;
  /** Exceptions thrown by event listeners (logged and contained). */
  listenerErrors: number;
}

/** Events of a {@link SipTransport}. Sources are already resolved IPs. */
export type SipTransportEvents = {
  request: [req: SipRequest, source: SipSource];
  response: [res: SipResponse, source: SipSource];
};

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function defaultPublicAddress(bind: string, family: 4 | 6): string {
  if (!WILDCARDS.has(bind)) return bind;
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (!ni.internal && (ni.family === 'IPv4' ? 4 : 6) === family) return ni.address;
    }
  }
  return family === 4 ? '127.0.0.1' : '::1';
}

/** SIP over UDP and TCP on one address and port. */
export class SipTransport extends TypedEmitter<SipTransportEvents> {
  readonly #log: Logger;
  readonly #udp: UdpSocket;
  readonly #server: Server;
  readonly #bindAddress: string;
  readonly #port: number;
  readonly #family: 4 | 6;
  /** Via/Contact host, bracketed when IPv6. */
  readonly #sentByHost: string;
  readonly #serverName: string | undefined;
  readonly #idleMs: number;
  readonly #maxPerIp: number;
  readonly #maxConnections: number;
  readonly #connectTimeoutMs: number;
  readonly #connections = new Map<number, TcpConnection>();
  readonly #byRemote = new Map<string, TcpConnection>();
  readonly #inboundPerIp = new Map<string, number>();
  #nextConnectionId = 1;
  #closed = false;
  readonly #counters: SipTransportCounters = {
    received: 0,
    sent: 0,
    sendErrors: 0,
    parseErrors: 0,
    badRequestsAnswered: 0,
    badMessagesDropped: 0,
    foreignResponsesDropped: 0,
    keepalives: 0,
    tcpAccepted: 0,
    tcpRejected: 0,
    tcpConnected: 0,
    tcpIdleClosed: 0,
    listenerErrors: 0,
  };

  private constructor(o: SipTransportOptions, udp: UdpSocket, server: Server, bindAddress: string, port: number) {
    super();
    this.#log = o.log;
    this.#udp = udp;
    this.#server = server;
    this.#bindAddress = bindAddress;
    this.#port = port;
    this.#family = isIPv6(bindAddress) ? 6 : 4;
    const pub = o.publicAddress ?? defaultPublicAddress(bindAddress, this.#family);
    this.#sentByHost = isIPv6(pub) ? `[${pub}]` : pub;
    this.#serverName = o.serverName;
    this.#idleMs = o.idleTimeoutMs ?? 60_000;
    this.#maxPerIp = o.maxConnectionsPerIp ?? 16;
    this.#maxConnections = o.maxConnections ?? 1024;
    this.#connectTimeoutMs = o.connectTimeoutMs ?? 10_000;

    udp.on('message', (buf: Buffer, rinfo: RemoteInfo) => this.#onDatagram(buf, rinfo));
    udp.on('error', (err: Error) => this.#log.warn(`UDP socket error: ${err.message}`));
    server.on('connection', (socket: Socket) => this.#onAccept(socket));
    server.on('error', (err: Error) => this.#log.warn(`TCP listener error: ${err.message}`));
  }

  /**
   * Binds UDP and TCP to `bindAddress:port`. With port 0 the UDP socket picks a port and TCP
   * takes the same one (retrying a few times if TCP finds it taken), because one Via/Contact
   * port has to serve both transports.
   */
  static async create(o: SipTransportOptions): Promise<SipTransport> {
    const bindAddress = o.bindAddress ?? '127.0.0.1';
    const wanted = o.port ?? 0;
    const family = isIPv6(bindAddress) ? 6 : 4;
    let lastError: unknown;
    for (let attempt = 0; attempt < (wanted === 0 ? 20 : 1); attempt++) {
      const udp = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind({ port: wanted, address: bindAddress, exclusive: true }, () => {
            udp.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        udp.close();
        throw e;
      }
      const port = udp.address().port;
      const server = createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, host: bindAddress, exclusive: true }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        return new SipTransport(o, udp, server, bindAddress, port);
      } catch (e) {
        lastError = e;
        udp.close();
        server.close();
      }
    }
    throw lastError instanceof Error ? lastError : new SipTransportError('cannot bind SIP transport');
  }

  /** The local port of both UDP and TCP. */
  get port(): number {
    return this.#port;
  }

  /** The bound address. */
  get bindAddress(): string {
    return this.#bindAddress;
  }

  /** Host used in Via sent-by and Contact (IPv6 bracketed). */
  get sentByHost(): string {
    return this.#sentByHost;
  }

  /** Address family of the bound sockets. */
  get family(): 4 | 6 {
    return this.#family;
  }

  /** Snapshot of the counters. */
  get counters(): Readonly<SipTransportCounters> {
    return { ...this.#counters };
  }

  /** Number of open TCP connections (inbound and outbound). */
  get tcpConnectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Our Via value for a new request: sent-by is the public address and port, with the RFC 3261
   * branch and a bare `rport` (RFC 3581) so responses come back to the port we sent from.
   */
  createVia(transport: SipTransportProtocol, branch: string): string {
    return formatVia({
      protocol: 'SIP',
      version: '2.0',
      transport: transport.toUpperCase(),
      host: this.#sentByHost,
      port: this.#port,
      params: [
        { name: 'branch', value: branch },
        { name: 'rport', value: null },
      ],
    });
  }

  /** Resolves a host target to an endpoint (IP literal as is, names via dns.lookup). */
  async resolve(target: SipHostTarget): Promise<SipEndpoint> {
    const address = await resolveHost(target.host, this.#family);
    return { transport: target.transport, address, port: target.port };
  }

  /**
   * Sends a message or pre-serialized bytes to `dest`. Over TCP an open connection to that
   * address and port is reused, otherwise one is opened. Rejects with {@link SipTransportError}.
   */
  async send(message: SipMessage | Buffer, dest: SipEndpoint): Promise<void> {
    const data = Buffer.isBuffer(message) ? message : serializeSipMessage(message);
    this.#log.debug(`→ ${dest.transport} ${dest.address}:${dest.port} ${Buffer.isBuffer(message) ? startLineOf(data) : describeMessage(message)}`);
    try {
      if (this.#closed) throw new SipTransportError('transport closed');
      if (dest.transport === 'udp') await this.#sendUdp(data, dest.address, dest.port);
      else await this.#connectionTo(dest.address, dest.port).send(data);
      this.#counters.sent++;
    } catch (e) {
      this.#counters.sendErrors++;
      throw e instanceof SipTransportError ? e : new SipTransportError(`send to ${dest.address}:${dest.port} failed`);
    }
  }

  /**
   * Sends a response per RFC 3261 §18.2.2 / RFC 3581: over the TCP connection the request came
   * on while it is open, otherwise to the address derived from the top Via (received, rport,
   * maddr, sent-by).
   */
  async sendResponse(res: SipResponse, source?: SipSource): Promise<void> {
    if (source?.connectionId !== undefined) {
      const conn = this.#connections.get(source.connectionId);
      if (conn && !conn.closed) {
        try {
          this.#log.debug(`→ tcp#${conn.id} ${describeMessage(res)}`);
          await conn.send(serializeSipMessage(res));
          this.#counters.sent++;
          return;
        } catch {
          // §18.2.2: the connection is gone; fall back to a new connection to received:sent-by port.
        }
      }
    }
    const via = topVia(res);
    const target = via === undefined ? undefined : responseTarget(via);
    if (target === undefined) {
      this.#counters.sendErrors++;
      throw new SipTransportError('response has no usable Via');
    }
    await this.send(res, await this.resolve(target));
  }

  /** Closes sockets and connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#connections.values()) c.close();
    await Promise.all([
      new Promise<void>((resolve) => this.#udp.close(() => resolve())),
      new Promise<void>((resolve) => this.#server.close(() => resolve())),
    ]);
  }

  #sendUdp(data: Buffer, address: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#udp.send(data, port, address, (err) => (err ? reject(new SipTransportError(`UDP send to ${address}:${port} failed`)) : resolve()));
    });
  }

  #remoteKey(address: string, port: number): string {
    return `${address.toLowerCase()}|${port}`;
  }

  /** The open connection to address:port, or a new outbound one. */
  #connectionTo(address: string, port: number): TcpConnection {
    const existing = this.#byRemote.get(this.#remoteKey(address, port));
    if (existing && !existing.closed) return existing;
    const socket = connect({ host: address, port, ...(WILDCARDS.has(this.#bindAddress) ? {} : { localAddress: this.#bindAddress }) });
    this.#counters.tcpConnected++;
    return this.#adopt(socket, false, address, port);
  }

  #onAccept(socket: Socket): void {
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (address === undefined || port === undefined || this.#closed) {
      socket.destroy();
      return;
    }
    const perIp = this.#inboundPerIp.get(address) ?? 0;
    const inbound = [...this.#connections.values()].filter((c) => c.inbound).length;
    if (perIp >= this.#maxPerIp || inbound >= this.#maxConnections) {
      // Refuse instead of queueing: a flood of idle connections is the attack (AST-2016-005).
      this.#counters.tcpRejected++;
      this.#log.warn(`refusing TCP connection from ${address}:${port} (${perIp} open from this address)`);
      socket.destroy();
      return;
    }
    this.#inboundPerIp.set(address, perIp + 1);
    this.#counters.tcpAccepted++;
    this.#adopt(socket, true, address, port);
  }

  #adopt(socket: Socket, inbound: boolean, address: string, port: number): TcpConnection {
    const conn = new TcpConnection(socket, {
      id: this.#nextConnectionId++,
      inbound,
      remoteAddress: address,
      remotePort: port,
      idleTimeoutMs: this.#idleMs,
      connectTimeoutMs: this.#connectTimeoutMs,
      connected: inbound,
    });
    const key = this.#remoteKey(address, port);
    this.#connections.set(conn.id, conn);
    this.#byRemote.set(key, conn);
    const source: SipSource = { transport: 'tcp', address, port, connectionId: conn.id };
    conn.on('message', (msg) => this.#dispatch(msg, source));
    conn.on('keepalive', () => this.#counters.keepalives++);
    conn.on('invalid', (err, fatal) => {
      this.#counters.parseErrors++;
      if (fatal) {
        this.#counters.badMessagesDropped++;
        this.#log.warn(`closing TCP connection from ${address}:${port}: ${err.reason}`);
        return;
      }
      this.#answerParseError(err, source);
    });
    conn.on('closed', (reason) => {
      this.#connections.delete(conn.id);
      if (this.#byRemote.get(key) === conn) this.#byRemote.delete(key);
      if (inbound) {
        const n = (this.#inboundPerIp.get(address) ?? 1) - 1;
        if (n > 0) this.#inboundPerIp.set(address, n);
        else this.#inboundPerIp.delete(address);
      }
      if (reason === 'idle') this.#counters.tcpIdleClosed++;
      this.#log.debug(`TCP connection #${conn.id} ${address}:${port} closed (${reason})`);
    });
    return conn;
  }

  #onDatagram(buf: Buffer, rinfo: RemoteInfo): void {
    if (isKeepAlive(buf)) {
      this.#counters.keepalives++;
      return;
    }
    const source: SipSource = { transport: 'udp', address: rinfo.address, port: rinfo.port };
    let msg: SipMessage;
    try {
      msg = parseSipMessage(buf);
    } catch (e) {
      this.#counters.parseErrors++;
      const err = e instanceof SipParseError ? e : new SipParseError('Malformed Message');
      this.#answerParseError(err, source);
      return;
    }
    this.#dispatch(msg, source);
  }

  /**
   * Answers a broken request with `status reason` straight back to where it came from (never to
   * an address named in the broken message, which would make us a reflector), or drops it.
   */
  #answerParseError(err: SipParseError, source: SipSource): void {
    const res = buildParseErrorResponse(err, this.#serverName);
    if (res === null) {
      this.#counters.badMessagesDropped++;
      this.#log.debug(`dropped unparseable message from ${source.address}:${source.port}: ${err.reason}`);
      return;
    }
    this.#counters.badRequestsAnswered++;
    this.#log.debug(`answering unparseable request from ${source.address}:${source.port} with ${err.status} ${err.reason}`);
    let data: Buffer;
    try {
      data = serializeSipMessage(res);
    } catch {
      return;
    }
    const send =
      source.connectionId !== undefined
        ? (this.#connections.get(source.connectionId)?.send(data) ?? Promise.resolve())
        : this.#sendUdp(data, source.address, source.port);
    send.then(
      () => this.#counters.sent++,
      () => this.#counters.sendErrors++,
    );
  }

  #dispatch(msg: SipMessage, source: SipSource): void {
    this.#counters.received++;
    this.#log.debug(`← ${source.transport} ${source.address}:${source.port} ${describeMessage(msg)}`);
    try {
      if (msg.kind === 'request') {
        stampReceived(msg, source);
        this.emit('request', msg, source);
      } else {
        const via = topVia(msg);
        const ours =
          via !== undefined &&
          unbracket(via.host).toLowerCase() === unbracket(this.#sentByHost).toLowerCase() &&
          (via.port ?? SIP_DEFAULT_PORT) === this.#port;
        if (!ours) {
          this.#counters.foreignResponsesDropped++;
          return;
        }
        this.emit('response', msg, source);
      }
    } catch (e) {
      // A bug in a listener must not take the socket (and every call on it) down.
      this.#counters.listenerErrors++;
      this.#log.error(`SIP message handler failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
