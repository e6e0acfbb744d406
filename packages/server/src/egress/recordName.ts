/**
 * Recording file names: the `record_template` placeholders, and a sanitiser that keeps names to
 * `[A-Za-z0-9._-]` so a name is always one safe path component of the records directory.
 */

/** Values of the template placeholders. */
export interface RecordNameVars {
  readonly streamName: string;
  /** ms since 1970. */
  readonly startTime: number;
  /** ms since 1970; undefined while recording (the placeholder renders empty). */
  readonly endTime?: number;
  readonly mediaSessionId: string;
  /** Source codec names (`opus`, `PCMU`, `PCMA`, `H264`), empty when the stream has none. */
  readonly audioCodec: string;
  readonly videoCodec: string;
}

/** The longest name produced (before `.part` / collision suffixes). */
export const MAX_RECORD_NAME = 200;

/** Replaces every character outside `[A-Za-z0-9._-]` by `_` and a leading dot by `_`. */
export function sanitizeRecordName(name: string): string {
  let s = name.replace(/[^A-Za-z0-9._-]/g, '_');
  if (s.startsWith('.')) s = `_${s.slice(1)}`;
  return s;
}

/**
 * Renders the template: placeholders replaced, unknown `{...}` kept literally (then sanitised),
 * `.mp4` appended unless the result already ends with it, length capped.
 */
export function renderRecordName(template: string, vars: RecordNameVars): string {
  const values: Record<string, string> = {
    streamName: vars.streamName,
    startTime: String(vars.startTime),
    endTime: vars.endTime === undefined ? '' : String(vars.endTime),
    mediaSessionId: vars.mediaSessionId,
    audioCodec: vars.audioCodec,
    videoCodec: vars.videoCodec,
  };
  const raw = template.replace(/\{(\w+)\}/g, (m, key: string) => values[key] ?? m);
  let stem = sanitizeRecordName(raw).replace(/\.mp4$/i, '');
  if (stem === '' || /^[._-]*$/.test(stem)) stem = `record_${vars.startTime}`;
  return `${stem.slice(0, MAX_RECORD_NAME)}.mp4`;
}

/** The name of the file while it is written: `x.mp4` -> `x.part.mp4`. */
export function partName(finalName: string): string {
  return finalName.replace(/\.mp4$/i, '.part.mp4');
}

/** `x.mp4` -> `x-1.mp4`, `x-2.mp4`... the first for which `exists` is false. */
export function uniqueName(name: string, exists: (n: string) => boolean): string {
  if (!exists(name)) return name;
  const stem = name.replace(/\.mp4$/i, '');
  for (let i = 1; i < 10_000; i++) {
    const candidate = `${stem}-${i}.mp4`;
    if (!exists(candidate)) return candidate;
  }
  return `${stem}-${Date.now()}.mp4`;
}
