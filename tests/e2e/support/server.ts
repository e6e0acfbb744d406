/**
 * Starts and stops a real sipcast server process for one test file.
 *
 *   const server = await startServer({ name: 'player', wsPort: 18080, httpPort: 18081 });
 *   ...
 *   await server.stop();
 *
 * The process is `node packages/server/dist/main.js` with SIPCAST_BIND=127.0.0.1 and the chosen ports; it is
 * ready once it prints a line containing `sipcast ready`. Its stdout and stderr are kept in memory so that a
 * failing test can attach them (`attachServerLogs`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestInfo } from '@playwright/test';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The server entry point; SIPCAST_E2E_SERVER_MAIN may name another build (e.g. an installed package's main.js). */
export const SERVER_MAIN =
  process.env.SIPCAST_E2E_SERVER_MAIN ?? path.join(REPO_ROOT, 'packages', 'server', 'dist', 'main.js');
export const SDK_UMD = path.join(REPO_ROOT, 'packages', 'sdk', 'dist', 'flashphoner.umd.min.js');

export interface StartServerOptions {
  /** Used in log prefixes and error messages. */
  name: string;
  /** First WebSocket port to try; the next free pair (wsPort+2k, httpPort+2k) is used if taken. */
  wsPort: number;
  httpPort: number;
  /** Extra environment (overrides the defaults below). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Also require the SDK bundle (the player page loads it from /sdk/). */
  requireSdk?: boolean;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SipcastServer {
  readonly name: string;
  readonly wsPort: number;
  readonly httpPort: number;
  /** ws://127.0.0.1:<wsPort> */
  readonly wsUrl: string;
  /** http://127.0.0.1:<httpPort> */
  readonly httpUrl: string;
  readonly proc: ChildProcess;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ServerExit>;
  /** stdout + stderr so far, one line per entry, prefixed with the stream name. */
  logs(): string;
  /** Sends a signal without waiting (e.g. to test how clients see a server going away). */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, wait up to 5 s, then SIGKILL. Safe to call more than once or after the process has exited. */
  stop(): Promise<ServerExit>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // If the runner dies without running afterAll, do not leave servers holding the ports.
  process.on('exit', () => {
    for (const proc of running) {
      try {
        proc.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

export function assertBuilt(opts: { sdk?: boolean } = {}): void {
  const missing: string[] = [];
  if (!existsSync(SERVER_MAIN)) missing.push(`${path.relative(REPO_ROOT, SERVER_MAIN)} (run \`npm run build:server\`)`);
  if (opts.sdk && !process.env.SIPCAST_E2E_SERVER_MAIN && !existsSync(SDK_UMD)) missing.push(`${path.relative(REPO_ROOT, SDK_UMD)} (run \`npm run build:sdk\`)`);
  if (missing.length > 0) {
    throw new Error(`sipcast e2e: build output missing: ${missing.join('; ')}. Build first: \`npm run build\`.`);
  }
}

export function tcpPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

async function pickPorts(wsPort: number, httpPort: number): Promise<[number, number]> {
  for (let i = 0; i < 20; i++) {
    const ws = wsPort + 2 * i;
    const http = httpPort + 2 * i;
    if ((await tcpPortFree(ws)) && (await tcpPortFree(http))) return [ws, http];
  }
  throw new Error(`sipcast e2e: no free port pair from ${wsPort}/${httpPort} upwards`);
}

export async function startServer(opts: StartServerOptions): Promise<SipcastServer> {
  assertBuilt({ sdk: opts.requireSdk ?? false });
  installExitHook();
  const [wsPort, httpPort] = await pickPorts(opts.wsPort, opts.httpPort);
  const lines: string[] = [];
  const proc = spawn(process.execPath, [SERVER_MAIN], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      SIPCAST_BIND: '127.0.0.1',
      SIPCAST_WS_PORT: String(wsPort),
      SIPCAST_HTTP_PORT: String(httpPort),
      SIPCAST_DEMO: 'true',
      // Free ports unless a test asks for fixed ones: several servers may run at once.
      SIPCAST_SIP_PORT: '0',
      SIPCAST_DEMO_CALLEE_PORT: '0',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);

  const exited = new Promise<ServerExit>((resolve) => {
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      lines.push(`[exit] code=${code} signal=${signal}`);
      resolve({ code, signal });
    });
  });

  const ready = new Promise<void>((resolve, reject) => {
    const collect = (label: string) => {
      let partial = '';
      return (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          lines.push(`[${label}] ${line}`);
          if (label === 'out' && line.includes('sipcast ready')) resolve();
        }
      };
    };
    proc.stdout?.on('data', collect('out'));
    proc.stderr?.on('data', collect('err'));
    proc.once('error', reject);
    void exited.then(({ code, signal }) =>
      reject(new Error(`sipcast server "${opts.name}" exited before ready (code ${code}, signal ${signal})`)),
    );
  });

  const timeoutMs = opts.readyTimeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`sipcast server "${opts.name}" printed no "sipcast ready" within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });

  const server: SipcastServer = {
    name: opts.name,
    wsPort,
    httpPort,
    wsUrl: `ws://127.0.0.1:${wsPort}`,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    proc,
    exited,
    logs: () => lines.join('\n'),
    kill: (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGTERM');
      const killTimer = setTimeout(() => {
        lines.push('[e2e] no exit 5 s after SIGTERM, sending SIGKILL');
        proc.kill('SIGKILL');
      }, 5_000);
      const result = await exited;
      clearTimeout(killTimer);
      return result;
    },
  };

  try {
    await Promise.race([ready, timeout]);
  } catch (err) {
    await server.stop();
    const tail = lines.slice(-40).join('\n');
    throw new Error(`${(err as Error).message}\n--- server output (last 40 lines) ---\n${tail}`);
  } finally {
    clearTimeout(timer);
  }
  return server;
}

/** Attach the server's output to the test report when the test did not pass. */
export async function attachServerLogs(testInfo: TestInfo, server: SipcastServer | undefined): Promise<void> {
  if (!server || testInfo.status === testInfo.expectedStatus) return;
  await testInfo.attach(`server-${server.name}.log`, { body: server.logs(), contentType: 'text/plain' });
}
