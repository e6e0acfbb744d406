/**
 * Maps `/client/records/<file>` to a file of the records directory. Only one path component of
 * `[A-Za-z0-9._-]` not starting with a dot is accepted (after percent-decoding), so `../`,
 * encoded slashes, absolute paths, NUL and hidden files never reach the file system; the joined
 * path is checked to lie inside the directory, and symbolic links are not followed.
 */
import { lstat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';

/** URL prefix of record downloads (WCS). */
export const RECORDS_URL_PREFIX = '/client/records/';

/** Why a requested name was refused. */
export type RecordPathResult =
  | { readonly ok: true; readonly path: string; readonly name: string }
  | { readonly ok: false; readonly status: 400 | 404; readonly message: string };

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

/**
 * Resolves the part of a URL path after RECORDS_URL_PREFIX (still percent-encoded) to an
 * absolute path in `dir`, without touching the file system.
 */
export function recordPath(dir: string, encodedName: string): RecordPathResult {
  let name: string;
  try {
    name = decodeURIComponent(encodedName);
  } catch {
    return { ok: false, status: 400, message: 'Bad percent-encoding in the record name' };
  }
  if (!SAFE_NAME.test(name)) return { ok: false, status: 400, message: 'Bad record name: one file name of A-Z a-z 0-9 . _ - expected' };
  const root = resolve(dir);
  const path = resolve(root, name);
  if (!path.startsWith(root + sep)) return { ok: false, status: 400, message: 'Bad record name' };
  return { ok: true, path, name };
}

/** Size of a regular file (not a symbolic link), or undefined. */
export async function regularFileSize(path: string): Promise<number | undefined> {
  const st = await lstat(path).catch(() => undefined);
  return st?.isFile() ? st.size : undefined;
}
