/**
 * Lexer for the `auth-scheme [ token68 / #auth-param ]` lists of WWW-Authenticate,
 * Proxy-Authenticate, Authorization and Proxy-Authorization (RFC 7235 §2.1 as used by
 * RFC 3261 §25.1 and RFC 7616). Several challenges may share one header value.
 */
import { DigestAuthError } from './DigestAuthError.js';
import { readQuotedString, scanToken, skipWsp } from './grammar.js';

/** One `name=value` auth-param. `name` is lower-cased; `value` is unquoted. */
export interface AuthParam {
  readonly name: string;
  readonly value: string;
  readonly quoted: boolean;
}

/** One challenge or credentials item. */
export interface AuthItem {
  /** Scheme as written ("Digest"); compare case-insensitively. */
  readonly scheme: string;
  readonly token68?: string;
  readonly params: readonly AuthParam[];
}

/** Longest header value we lex; real challenges are a few hundred bytes. */
const MAX_INPUT = 16 * 1024;
const MAX_PARAMS = 64;
/** RFC 7235 token68, sticky so it is matched in place without slicing the input. */
const TOKEN68 = /[A-Za-z0-9\-._~+/]+=*/y;

function malformed(): never {
  throw new DigestAuthError('malformed-challenge', 'malformed authentication header');
}

/** True when `c` may appear in an unquoted value. Tolerant: servers send base64 nonces bare. */
function isBareValueChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x2c && c !== 0x22;
}

/**
 * Splits a header value into scheme items with their params. Tolerates LWS around `=` and `,`,
 * empty list elements, unquoted values, and an unquoted qop list (`qop=auth,auth-int`).
 * Throws {@link DigestAuthError}("malformed-challenge").
 */
export function parseAuthItems(value: string): AuthItem[] {
  if (value.length > MAX_INPUT) malformed();
  const s = value;
  const items: AuthItem[] = [];
  let i = 0;
  const skipSeparators = (): void => {
    for (;;) {
      i = skipWsp(s, i);
      if (s.charCodeAt(i) !== 0x2c) return;
      i++;
    }
  };

  for (;;) {
    skipSeparators();
    if (i >= s.length) break;
    const schemeEnd = scanToken(s, i);
    if (schemeEnd === i) malformed();
    const scheme = s.slice(i, schemeEnd);
    i = skipWsp(s, schemeEnd);
    const params: AuthParam[] = [];

    TOKEN68.lastIndex = i;
    const t68 = TOKEN68.exec(s);
    if (t68) {
      const after = skipWsp(s, i + t68[0].length);
      if (after >= s.length || s.charCodeAt(after) === 0x2c) {
        // A token68 (e.g. "Negotiate abc==") stands alone; "realm=x" continues with a value.
        items.push({ scheme, token68: t68[0], params });
        i = after;
        continue;
      }
    }

    while (i < s.length && s.charCodeAt(i) !== 0x2c) {
      const nameEnd = scanToken(s, i);
      if (nameEnd === i) malformed();
      let j = skipWsp(s, nameEnd);
      if (s.charCodeAt(j) !== 0x3d) {
        if (params.length === 0) malformed();
        break;
      }
      const name = s.slice(i, nameEnd).toLowerCase();
      j = skipWsp(s, j + 1);
      let v: string;
      let quoted = false;
      if (s.charCodeAt(j) === 0x22) {
        const q = readQuotedString(s, j) ?? malformed();
        v = q.value;
        quoted = true;
        j = q.end;
      } else {
        const start = j;
        while (j < s.length && isBareValueChar(s.charCodeAt(j))) j++;
        if (j === start) malformed();
        v = s.slice(start, j);
      }
      if (params.length >= MAX_PARAMS) malformed();
      params.push({ name, value: v, quoted });
      i = skipWsp(s, j);
      if (i >= s.length) break;
      if (s.charCodeAt(i) !== 0x2c) malformed();
      skipSeparators();
      // An unquoted qop list continues with bare tokens: "qop=auth,auth-int".
      for (;;) {
        const last = params[params.length - 1]!;
        if (last.name !== 'qop' || last.quoted) break;
        const e = scanToken(s, i);
        const k = skipWsp(s, e);
        if (e === i || (k < s.length && s.charCodeAt(k) !== 0x2c)) break;
        params[params.length - 1] = { ...last, value: `${last.value},${s.slice(i, e)}` };
        i = k;
        skipSeparators();
      }
      // The next item is either another param of this scheme or a new scheme: look ahead.
      const e = scanToken(s, i);
      if (e === i || s.charCodeAt(skipWsp(s, e)) !== 0x3d) break;
    }
    items.push({ scheme, params });
  }
  return items;
}
