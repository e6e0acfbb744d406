/**
 * Small line-based SDP helpers: no parser dependency, just what playback needs.
 *
 * @packageDocumentation
 */

interface Section {
  /** Lines of this section; the first is the `m=` line (except for the session part). */
  lines: string[];
}

function splitSections(sdp: string): { eol: string; sections: Section[] } {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  const lines = sdp.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const sections: Section[] = [{ lines: [] }];
  for (const line of lines) {
    if (line.startsWith('m=')) sections.push({ lines: [] });
    sections[sections.length - 1]!.lines.push(line);
  }
  return { eol, sections };
}

function join(eol: string, sections: Section[]): string {
  return sections.flatMap((s) => s.lines).join(eol) + eol;
}

/** Payload type and encoding name of each `a=rtpmap` line of a section. */
function rtpmaps(section: Section): Map<string, { name: string; clockRate: number; line: number }> {
  const map = new Map<string, { name: string; clockRate: number; line: number }>();
  section.lines.forEach((line, index) => {
    const m = /^a=rtpmap:(\d+) ([^/\s]+)\/(\d+)/.exec(line);
    if (m) map.set(m[1]!, { name: m[2]!, clockRate: Number(m[3]), line: index });
  });
  return map;
}

function fmtpOf(section: Section, pt: string): string | undefined {
  const prefix = `a=fmtp:${pt} `;
  const line = section.lines.find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : line.slice(prefix.length);
}

/**
 * Removes codecs from an SDP, by encoding name, case-insensitively
 * (`"H264,PCMA"`). Their `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines go, their
 * payload types leave the `m=` line, and so do the codecs that only repair
 * them (rtx with `apt=` a removed type, red whose redundancy types are all
 * removed).
 *
 * @param sdp - the SDP.
 * @param codecs - comma separated names, or an array of names.
 * @returns the SDP without those codecs (unchanged when the list is empty).
 */
export function stripCodecs(sdp: string, codecs: string | readonly string[] | undefined): string {
  const list = (typeof codecs === 'string' ? codecs.split(',') : codecs ?? [])
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c.length > 0);
  if (list.length === 0) return sdp;
  const { eol, sections } = splitSections(sdp);
  for (const section of sections.slice(1)) {
    const maps = rtpmaps(section);
    const removed = new Set<string>();
    for (const [pt, { name }] of maps) {
      if (list.includes(name.toLowerCase())) removed.add(pt);
    }
    if (removed.size === 0) continue;
    // Codecs that depend on removed ones: rtx (apt=PT) and red (PT/PT...).
    for (const pt of maps.keys()) {
      if (removed.has(pt)) continue;
      const fmtp = fmtpOf(section, pt);
      if (fmtp === undefined) continue;
      const apt = /(?:^|;)\s*apt=(\d+)/.exec(fmtp);
      if (apt && removed.has(apt[1]!)) {
        removed.add(pt);
        continue;
      }
      if (/^\d+(\/\d+)*$/.test(fmtp.trim()) && fmtp.trim().split('/').every((p) => removed.has(p))) {
        removed.add(pt);
      }
    }
    section.lines = section.lines
      .filter((line) => {
        const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(line);
        return !(m && removed.has(m[1]!));
      })
      .map((line, index) => {
        if (index !== 0) return line;
        const parts = line.split(' ');
        return [...parts.slice(0, 3), ...parts.slice(3).filter((pt) => !removed.has(pt))].join(' ');
      });
  }
  return join(eol, sections);
}

/**
 * Sets fmtp parameters on every opus payload type: merged into its existing
 * `a=fmtp` line (a given key replaces the old value), or a new `a=fmtp` line
 * right after the `a=rtpmap`.
 *
 * @param sdp - the SDP.
 * @param params - parameters to set, e.g. `{stereo: "1", "sprop-stereo": "1"}`.
 * @returns the SDP with the parameters set (unchanged if `params` is empty).
 */
export function setOpusFmtp(sdp: string, params: Readonly<Record<string, string>>): string {
  const keys = Object.keys(params);
  if (keys.length === 0) return sdp;
  const { eol, sections } = splitSections(sdp);
  for (const section of sections.slice(1)) {
    for (const [pt, { name, line }] of rtpmaps(section)) {
      if (name.toLowerCase() !== 'opus') continue;
      const prefix = `a=fmtp:${pt} `;
      const index = section.lines.findIndex((l) => l.startsWith(prefix));
      const merged = new Map<string, string>();
      if (index >= 0) {
        for (const kv of section.lines[index]!.slice(prefix.length).split(';')) {
          const eq = kv.indexOf('=');
          const k = (eq < 0 ? kv : kv.slice(0, eq)).trim();
          if (k) merged.set(k, eq < 0 ? '' : kv.slice(eq + 1).trim());
        }
      }
      for (const k of keys) merged.set(k, params[k]!);
      const value = Array.from(merged, ([k, v]) => (v === '' ? k : `${k}=${v}`)).join(';');
      if (index >= 0) {
        section.lines[index] = prefix + value;
      } else {
        section.lines.splice(line + 1, 0, prefix + value);
      }
    }
  }
  return join(eol, sections);
}

/** Opus fmtp derived from playback audio constraints (Flashphoner's rules). */
export function opusParamsFromConstraints(audio: {
  stereo?: boolean | undefined;
  bitrate?: number | undefined;
  fec?: boolean | undefined;
}): Record<string, string> {
  const params: Record<string, string> = {};
  if (audio.bitrate) params['maxaveragebitrate'] = String(audio.bitrate);
  if (audio.stereo) {
    params['stereo'] = '1';
    params['sprop-stereo'] = '1';
  }
  if (audio.fec) params['useinbandfec'] = '1';
  return params;
}

/**
 * The codec in use for `kind`: the first payload type of the first `m=<kind>`
 * line, with its encoding name and clock rate.
 */
export function negotiatedCodec(
  sdp: string | undefined,
  kind: 'audio' | 'video',
): { name: string; clockRate: number } | undefined {
  if (!sdp) return undefined;
  const { sections } = splitSections(sdp);
  const section = sections.find((s) => s.lines[0]?.startsWith(`m=${kind} `));
  if (!section) return undefined;
  const pt = section.lines[0]!.split(' ')[3];
  const map = pt === undefined ? undefined : rtpmaps(section).get(pt);
  return map ? { name: map.name, clockRate: map.clockRate } : undefined;
}
