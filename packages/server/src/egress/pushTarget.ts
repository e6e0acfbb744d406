/**
 * RTMP target rules of `/push/startup` (wire contract §4): `rtmpUrl + "/rtmp_" + streamName`,
 * or `rtmpUrl` itself with `rtmpTransponderFullUrl`.
 */
import { EgressError } from './EgressError.js';

const RTMP_URL = /^rtmps?:\/\/[^\s/?#]+/i;

/**
 * Checks an RTMP URL from a request.
 *
 * @throws EgressError 400 when missing, not rtmp:// or rtmps://, or containing whitespace or
 * control characters.
 */
export function checkRtmpUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') throw new EgressError(400, 'Field "rtmpUrl" is required');
  const u = url.trim();
  if (!RTMP_URL.test(u)) throw new EgressError(400, 'Field "rtmpUrl" must start with rtmp:// or rtmps:// and name a host');
  if (/[\s\u0000-\u001f\u007f]/.test(u)) throw new EgressError(400, 'Field "rtmpUrl" must not contain whitespace or control characters');
  if (u.length > 1024) throw new EgressError(400, 'Field "rtmpUrl" is longer than 1024 characters');
  return u;
}

/**
 * The URL ffmpeg publishes to. Without `fullUrl` the stream name is appended as `rtmp_<name>`
 * (percent-encoded where it is not URL-safe; ordinary names are unchanged).
 */
export function pushTarget(streamName: string, rtmpUrl: string, fullUrl: boolean): string {
  const url = checkRtmpUrl(rtmpUrl);
  if (fullUrl) return url;
  return `${url.replace(/\/+$/, '')}/rtmp_${encodeURIComponent(streamName)}`;
}

/** The key under which a push is unique: one push per stream and target. */
export function pushKey(streamName: string, target: string): string {
  return `${streamName}\n${target}`;
}

/**
 * An RTMP URL for logs and error texts: user-info and query hidden, and the stream name (last
 * path segment) cut to its first 3 characters unless it is a generated `rtmp_<name>` one, since
 * RTMP stream names are often secret stream keys.
 */
export function redactRtmpUrl(url: string): string {
  const m = /^([a-z]+:\/\/)(?:[^/@]*@)?([^/?#]*)([^?#]*)/i.exec(url);
  if (!m) return '***';
  const [, scheme = '', host = '', path = ''] = m;
  const segs = path.split('/');
  const last = segs.pop() ?? '';
  const shown = last.startsWith('rtmp_') || last.length <= 3 ? last : `${last.slice(0, 3)}***`;
  return `${scheme}${host}${[...segs, shown].join('/')}${/[?#]/.test(url) ? '?***' : ''}`;
}

/** Replaces every occurrence of `url` in `text` by its redacted form. */
export function redactIn(text: string, url: string): string {
  return url ? text.split(url).join(redactRtmpUrl(url)) : text;
}
