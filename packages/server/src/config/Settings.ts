import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CallSettings } from '../call/CallSettings.js';
import { EgressSettingsError, parseEgressSettings, type EgressSettings } from '../egress/egressSettings.js';
import { Logger, type LogLevel } from '../util/Logger.js';
import type { WebRtcSettings } from '../webrtc/WebRtcSettings.js';
import { SETTING_KEYS, type SettingKey, type SettingName } from './settingKeys.js';

/** Everything the server reads from its settings file and environment (docs/configuration.md). */
export interface Settings {
  readonly bind: string;
  readonly wsPort: number;
  readonly httpPort: number;
  readonly restToken: string;
  readonly wsToken: string;
  readonly corsOrigins: readonly string[];
  readonly logLevel: LogLevel;
  readonly demo: boolean;
  readonly demoCallee: boolean;
  readonly demoCalleePort: number;
  readonly demoClip: string;
  readonly webRoot: string;
  readonly sdkDist: string;
  readonly pingIntervalMs: number;
  readonly webrtc: WebRtcSettings;
  readonly call: CallSettings;
  readonly egress: EgressSettings;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

type Env = Readonly<Record<string, string | undefined>>;

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** Parses a settings file: JSON (`{"sip_port": 5080}`) or `key=value` lines (WCS properties). */
export function parseSettingsFile(text: string, path = 'settings'): Map<string, string> {
  const out = new Map<string, string>();
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch (err) {
      throw new SettingsError(`${path}: not valid JSON (${(err as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new SettingsError(`${path}: must be a JSON object`);
    for (const [k, v] of Object.entries(obj)) out.set(k, Array.isArray(v) ? v.join(',') : String(v));
    return out;
  }
  text.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#') || l.startsWith('!')) return;
    const eq = l.search(/[=:]/);
    if (eq <= 0) throw new SettingsError(`${path}:${i + 1}: expected key=value`);
    out.set(l.slice(0, eq).trim(), l.slice(eq + 1).trim());
  });
  return out;
}

/**
 * Reads settings: defaults, then the file named by SIPCAST_CONFIG (or `file`), then SIPCAST_*
 * environment variables. Unknown keys in the file and bad values are errors.
 */
export function loadSettings(env: Env = process.env, file?: Map<string, string>): Settings {
  const fromFile = file ?? (env['SIPCAST_CONFIG'] ? parseSettingsFile(readConfig(env['SIPCAST_CONFIG']), env['SIPCAST_CONFIG']) : new Map<string, string>());
  const known = new Set<string>(SETTING_KEYS.map((k) => k.key));
  for (const k of fromFile.keys()) if (!known.has(k)) throw new SettingsError(`unknown setting "${k}"`);
  const raw = (name: SettingName): { spec: SettingKey; value: string } => {
    const spec = SETTING_KEYS.find((k) => k.key === name)!;
    const e = env[spec.env];
    return { spec, value: e !== undefined && e !== '' ? e : (fromFile.get(name) ?? spec.def) };
  };
  const str = (n: SettingName): string => raw(n).value;
  const int = (n: SettingName): number => {
    const { spec, value } = raw(n);
    const v = Number(value);
    if (!Number.isInteger(v) || (spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) {
      throw new SettingsError(`${spec.key} (${spec.env}) must be an integer in ${spec.min}..${spec.max}, got "${value}"`);
    }
    return v;
  };
  const bool = (n: SettingName): boolean => {
    const { spec, value } = raw(n);
    if (/^(1|true|yes|on)$/i.test(value)) return true;
    if (/^(0|false|no|off)$/i.test(value)) return false;
    throw new SettingsError(`${spec.key} (${spec.env}) must be true or false, got "${value}"`);
  };
  const list = (n: SettingName): string[] =>
    str(n)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const regex = (n: SettingName): RegExp | undefined => {
    const { spec, value } = raw(n);
    if (!value) return undefined;
    try {
      return new RegExp(`^(?:${value})$`);
    } catch {
      throw new SettingsError(`${spec.key} (${spec.env}) is not a valid regular expression`);
    }
  };

  const bind = str('bind_address');
  const restToken = str('rest_token');
  const wsToken = str('ws_token');
  if (!isLoopback(bind) && (!restToken || !wsToken)) {
    throw new SettingsError(`bind_address ${bind} is not loopback: set rest_token and ws_token (SIPCAST_REST_TOKEN, SIPCAST_WS_TOKEN) so that the REST API and WebSocket are not open to anyone`);
  }
  const icePortMin = int('ice_port_min');
  const icePortMax = int('ice_port_max');
  if (icePortMax < icePortMin) throw new SettingsError('ice_port_max is below ice_port_min');
  const rtpPortMin = int('rtp_port_min');
  const rtpPortMax = int('rtp_port_max');
  if (rtpPortMax < rtpPortMin + 3) throw new SettingsError('rtp_port_max must leave room for at least 4 ports above rtp_port_min');
  let egress: EgressSettings;
  try {
    egress = parseEgressSettings((k) => raw(k).value);
  } catch (err) {
    if (err instanceof EgressSettingsError) throw new SettingsError(err.message);
    throw err;
  }
  return {
    egress,
    bind,
    wsPort: int('ws_port'),
    httpPort: int('http_port'),
    restToken,
    wsToken,
    corsOrigins: list('cors_origins'),
    logLevel: Logger.parseLevel(str('log_level')),
    demo: bool('demo'),
    demoCallee: bool('demo_callee'),
    demoCalleePort: int('demo_callee_port'),
    demoClip: str('demo_clip') || `${repoRoot}packages/server/assets/demo.sclip`,
    webRoot: str('web_root') || `${repoRoot}examples`,
    sdkDist: str('sdk_dist') || `${repoRoot}packages/sdk/dist`,
    pingIntervalMs: int('ping_interval_ms'),
    webrtc: {
      bindAddress: bind,
      publicAddresses: list('public_ip'),
      portRangeBegin: icePortMin,
      portRangeEnd: icePortMax,
      iceUdpMux: bool('ice_udp_mux'),
      preferGcm: bool('srtp_prefer_gcm'),
      connectTimeoutMs: int('ice_timeout_ms'),
    },
    call: {
      sipBindAddress: bind,
      sipPort: int('sip_port'),
      sipPublicAddress: str('sip_public_ip') || (bind === '0.0.0.0' ? '127.0.0.1' : bind),
      rtpPortMin,
      rtpPortMax,
      rtpSessionInitAlways: bool('rtp_session_init_always'),
      rtpActivityTimeoutSec: int('rtp_activity_detecting'),
      sipSingleRouteOnly: bool('sip_single_route_only'),
      maxCalls: int('max_calls'),
      maxCallDurationSec: int('max_call_duration'),
      calleeAllowPattern: regex('callee_allow_pattern'),
      ringTimeoutSec: int('ring_timeout'),
    },
  };
}

function readConfig(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new SettingsError(`cannot read SIPCAST_CONFIG ${path}: ${(err as Error).message}`);
  }
}

export function isLoopback(addr: string): boolean {
  return addr === 'localhost' || addr === '::1' || /^127\./.test(addr);
}
