import { fileURLToPath } from 'node:url';
import type { LogLevel } from '../util/Logger.js';
import { Logger } from '../util/Logger.js';
import type { WebRtcSettings } from '../webrtc/WebRtcSettings.js';

/** Everything the server reads from its environment (docs/configuration.md). */
export interface Settings {
  readonly bind: string;
  readonly wsPort: number;
  readonly httpPort: number;
  readonly logLevel: LogLevel;
  readonly demo: boolean;
  readonly demoClip: string;
  readonly webRoot: string;
  readonly sdkDist: string;
  readonly pingIntervalMs: number;
  readonly webrtc: WebRtcSettings;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

function int(env: Env, key: string, def: number, min = 0, max = 65535): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new SettingsError(`${key} must be an integer in ${min}..${max}, got "${raw}"`);
  return n;
}

function bool(env: Env, key: string, def: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new SettingsError(`${key} must be true or false, got "${raw}"`);
}

/** Reads settings from environment variables (SIPCAST_*), with safe defaults. */
export function loadSettings(env: Env = process.env): Settings {
  const bind = env['SIPCAST_BIND'] || '127.0.0.1';
  const portRangeBegin = int(env, 'SIPCAST_ICE_PORT_MIN', 40000, 1024);
  const portRangeEnd = int(env, 'SIPCAST_ICE_PORT_MAX', 49999, 1024);
  if (portRangeEnd < portRangeBegin) throw new SettingsError('SIPCAST_ICE_PORT_MAX is below SIPCAST_ICE_PORT_MIN');
  return {
    bind,
    wsPort: int(env, 'SIPCAST_WS_PORT', 8080),
    httpPort: int(env, 'SIPCAST_HTTP_PORT', 8081),
    logLevel: Logger.parseLevel(env['SIPCAST_LOG_LEVEL']),
    demo: bool(env, 'SIPCAST_DEMO', true),
    demoClip: env['SIPCAST_DEMO_CLIP'] || `${repoRoot}packages/server/assets/demo.sclip`,
    webRoot: env['SIPCAST_WEB_ROOT'] || `${repoRoot}examples`,
    sdkDist: env['SIPCAST_SDK_DIST'] || `${repoRoot}packages/sdk/dist`,
    pingIntervalMs: int(env, 'SIPCAST_PING_INTERVAL_MS', 5000, 100, 600000),
    webrtc: {
      bindAddress: bind === '0.0.0.0' ? '0.0.0.0' : bind,
      publicAddresses: (env['SIPCAST_PUBLIC_IP'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
      portRangeBegin,
      portRangeEnd,
      iceUdpMux: bool(env, 'SIPCAST_ICE_UDP_MUX', false),
      preferGcm: bool(env, 'SIPCAST_SRTP_PREFER_GCM', true),
      connectTimeoutMs: int(env, 'SIPCAST_ICE_TIMEOUT_MS', 15000, 1000, 600000),
    },
  };
}
