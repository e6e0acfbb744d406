/**
 * Settings of RTMP push and recording, in the shape of `SETTING_KEYS` (config/settingKeys.ts) so
 * that the lead can merge them into that table, and `EgressSettings`, the parsed values.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SettingKey } from '../config/settingKeys.js';

/** What G.711 audio becomes on an RTMP push. */
export type PushAudioCodec = 'aac' | 'g711';

/** Parsed egress settings (see EGRESS_SETTING_KEYS for their keys, environment and defaults). */
export interface EgressSettings {
  /** Record every stream captured from a SIP call (owner `call:*`) from its first keyframe. */
  readonly recordSipStreams: boolean;
  /** Absolute directory of the recordings; created when missing. */
  readonly recordDir: string;
  /** File name template: `{streamName}`, `{startTime}`, `{endTime}`, `{mediaSessionId}`, `{audioCodec}`, `{videoCodec}`. */
  readonly recordTemplate: string;
  /** ffmpeg binary (a name looked up in PATH, or a path). */
  readonly ffmpegPath: string;
  /** `aac` (default): every audio codec becomes AAC on RTMP; `g711`: PCMU/PCMA go into FLV as is. */
  readonly pushAudioCodec: PushAudioCodec;
}

/** The rows to append to SETTING_KEYS. */
export const EGRESS_SETTING_KEYS = [
  { key: 'sip_record_stream', env: 'SIPCAST_RECORD_SIP_STREAMS', type: 'bool', def: 'false', doc: 'Record every stream captured from a SIP call, from its first keyframe, as MP4 (H.264 + AAC) into `record_dir` (WCS)' },
  { key: 'record_dir', env: 'SIPCAST_RECORD_DIR', type: 'string', def: '', doc: 'Directory of the recordings, served at `/client/records/<file>` (default `records` in the repository root); created when missing' },
  { key: 'record_template', env: 'SIPCAST_RECORD_TEMPLATE', type: 'string', def: '{streamName}-{startTime}.mp4', doc: 'Recording file name: `{streamName}`, `{startTime}`, `{endTime}` (ms since 1970), `{mediaSessionId}`, `{audioCodec}`, `{videoCodec}`; other characters than `A-Za-z0-9._-` become `_`' },
  { key: 'ffmpeg_path', env: 'SIPCAST_FFMPEG_PATH', type: 'string', def: 'ffmpeg', doc: 'The ffmpeg binary used for RTMP push and recording (one child process each)' },
  { key: 'push_audio_codec', env: 'SIPCAST_PUSH_AUDIO_CODEC', type: 'string', def: 'aac', doc: '`aac`: RTMP pushes carry AAC whatever the source codec; `g711`: PCMU/PCMA sources go into FLV as G.711 (opus is always transcoded to AAC)' },
] as const satisfies readonly SettingKey[];

/** Key names of the egress settings. */
export type EgressSettingName = (typeof EGRESS_SETTING_KEYS)[number]['key'];

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));

/** The default records directory: `<repo>/records`. */
export const DEFAULT_RECORD_DIR = `${repoRoot}records`;

/** Thrown for a bad egress setting value. */
export class EgressSettingsError extends Error {
  override readonly name = 'EgressSettingsError';
}

/**
 * Builds EgressSettings from raw values (settings file entries or environment overrides already
 * applied by the caller); missing values take the defaults of EGRESS_SETTING_KEYS.
 *
 * @throws EgressSettingsError for a bad boolean or codec.
 */
export function parseEgressSettings(raw: (key: EgressSettingName) => string | undefined): EgressSettings {
  const get = (key: EgressSettingName): string => {
    const v = raw(key);
    return v !== undefined && v !== '' ? v : EGRESS_SETTING_KEYS.find((k) => k.key === key)!.def;
  };
  const record = get('sip_record_stream');
  let recordSipStreams: boolean;
  if (/^(1|true|yes|on)$/i.test(record)) recordSipStreams = true;
  else if (/^(0|false|no|off)$/i.test(record)) recordSipStreams = false;
  else throw new EgressSettingsError(`sip_record_stream must be true or false, got "${record}"`);
  const codec = get('push_audio_codec').toLowerCase();
  if (codec !== 'aac' && codec !== 'g711') throw new EgressSettingsError(`push_audio_codec must be aac or g711, got "${codec}"`);
  return {
    recordSipStreams,
    recordDir: resolve(get('record_dir') || DEFAULT_RECORD_DIR),
    recordTemplate: get('record_template'),
    ffmpegPath: get('ffmpeg_path'),
    pushAudioCodec: codec,
  };
}

/** EgressSettings from SIPCAST_* environment variables only (tests, the interim test entry). */
export function egressSettingsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): EgressSettings {
  return parseEgressSettings((key) => env[EGRESS_SETTING_KEYS.find((k) => k.key === key)!.env]);
}
