import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import {
  DigestAuthError,
  buildDigestAuthorization,
  computeDigestResponse,
  parseDigestChallenges,
  parseDigestCredentials,
  selectDigestChallenge,
  type DigestChallenge,
} from './DigestAuth.js';
import { DigestClient } from './DigestClient.js';
import { SipHeaders } from './SipHeaders.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function authError(fn: () => unknown, code?: string): DigestAuthError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DigestAuthError, `not a DigestAuthError: ${String(e)}`);
    if (code) assert.equal(e.code, code);
    return e;
  }
  assert.fail('did not throw');
}

describe('digest test vectors', () => {
  test('RFC 2617 §3.5 (Mufasa, MD5, qop=auth)', () => {
    const r = computeDigestResponse({
      algorithm: 'MD5', username: 'Mufasa', password: 'Circle Of Life', realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093', method: 'GET', uri: '/dir/index.html', qop: 'auth', nc: '00000001', cnonce: '0a4f113b',
    });
    assert.equal(r, '6629fae49393a05397450978507c4ef1');
  });

  test('RFC 7616 §3.9.1 (MD5 and SHA-256), through challenge parsing and header building', () => {
    const challenges = parseDigestChallenges([
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    ]);
    const input = { username: 'Mufasa', password: 'Circle of Life', method: 'GET', uri: '/dir/index.html', nc: 1, cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ' };
    const expected: Record<string, string> = {
      'SHA-256': '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      MD5: '8ca523f5e9506fed4657c9700eebdbec',
    };
    for (const c of challenges) {
      const value = buildDigestAuthorization(c, input);
      const creds = parseDigestCredentials(value);
      assert.equal(creds.response, expected[c.algorithm]);
      assert.deepEqual(
        [creds.username, creds.realm, creds.uri, creds.qop, creds.nc, creds.cnonce, creds.opaque, creds.algorithm],
        ['Mufasa', 'http-auth@example.org', '/dir/index.html', 'auth', '00000001', input.cnonce, 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS', c.algorithm],
      );
    }
    assert.equal(selectDigestChallenge(challenges).algorithm, 'SHA-256');
  });

  test('-sess, auth-int and RFC 2069 (no qop) follow the RFC formulas', () => {
    const base = { username: 'u', password: 'p', realm: 'r', nonce: 'n', method: 'INVITE', uri: 'sip:b@h', cnonce: 'c', nc: '00000001' };
    const ha1 = md5(`${md5('u:r:p')}:n:c`);
    assert.equal(computeDigestResponse({ ...base, algorithm: 'MD5-sess', qop: 'auth' }), md5(`${ha1}:n:00000001:c:auth:${md5('INVITE:sip:b@h')}`));
    const body = Buffer.from('v=0\r\n');
    assert.equal(
      computeDigestResponse({ ...base, algorithm: 'MD5', qop: 'auth-int', body }),
      md5(`${md5('u:r:p')}:n:00000001:c:auth-int:${md5(`INVITE:sip:b@h:${md5('v=0\r\n')}`)}`),
    );
    assert.equal(computeDigestResponse({ algorithm: 'MD5', username: 'u', password: 'p', realm: 'r', nonce: 'n', method: 'INVITE', uri: 'sip:b@h' }), md5(`${md5('u:r:p')}:n:${md5('INVITE:sip:b@h')}`));
    authError(() => computeDigestResponse({ algorithm: 'MD5-sess', username: 'u', password: 'p', realm: 'r', nonce: 'n', method: 'M', uri: 'x' }), 'invalid-input');
  });
});

describe('challenge parsing', () => {
  test('kamailio challenge (peers README §2)', () => {
    const [c] = parseDigestChallenges(['Digest realm="spike", nonce="awfcQ2sH2xfFPa6ulvF5soFJwlm6BdMI", qop="auth"']);
    assert.deepEqual(c, { realm: 'spike', nonce: 'awfcQ2sH2xfFPa6ulvF5soFJwlm6BdMI', stale: false, algorithm: 'MD5', qop: ['auth'], userhash: false });
  });

  test('whitespace, case and quoting variations', () => {
    const variants = [
      'Digest realm="spike",nonce="abc",qop="auth"',
      'digest   realm = "spike" ,  nonce = "abc" , qop = "auth"',
      'DIGEST REALM="spike", NONCE=abc, QOP=auth, ALGORITHM="md5"',
      'Digest realm=spike, nonce="abc", qop=auth,auth-int, stale=FALSE',
      'Digest realm="spike", , nonce="abc", qop="auth", domain="sip:spike sip:other", charset=UTF-8',
    ];
    for (const v of variants) {
      const [c] = parseDigestChallenges([v]);
      assert.equal(c!.realm, 'spike', v);
      assert.equal(c!.nonce, 'abc', v);
      assert.equal(c!.algorithm, 'MD5', v);
      assert.ok(c!.qop.includes('auth'), v);
    }
    const [c] = parseDigestChallenges(['Digest realm="a\\"b", nonce="n/+=", stale=TRUE, opaque="o", algorithm=sha-256-SESS']);
    assert.deepEqual([c!.realm, c!.nonce, c!.stale, c!.opaque, c!.algorithm, c!.qop], ['a"b', 'n/+=', true, 'o', 'SHA-256-sess', []]);
  });

  test('several challenges in one or several headers: the strongest supported wins', () => {
    const one = parseDigestChallenges([
      'Negotiate abc==, Digest realm="r", nonce="1", algorithm=MD5, qop="auth", Digest realm="r", nonce="2", algorithm=SHA-256, qop="auth", Basic realm="r"',
    ]);
    assert.deepEqual(one.map((c) => c.nonce), ['1', '2']);
    assert.equal(selectDigestChallenge(one).nonce, '2');
    const several = parseDigestChallenges([
      'Digest realm="r", nonce="1", algorithm=MD5, qop="auth"',
      'Digest realm="r", nonce="2", algorithm=SHA-999, qop="auth"',
      'Digest realm="r", nonce="3", algorithm=SHA-256, qop="auth-conf"',
    ]);
    assert.equal(selectDigestChallenge(several).nonce, '1');
    authError(() => selectDigestChallenge(several.slice(1)), 'unsupported-challenge');
    // -sess without qop cannot be answered (no cnonce allowed); plain MD5 without qop is RFC 2069.
    authError(() => selectDigestChallenge(parseDigestChallenges(['Digest realm="r", nonce="1", algorithm=MD5-sess'])), 'unsupported-challenge');
    assert.equal(selectDigestChallenge(parseDigestChallenges(['Digest realm="r", nonce="1"'])).nonce, '1');
  });

  test('malformed or missing challenges are DigestAuthError, never anything else', () => {
    authError(() => parseDigestChallenges([]), 'missing-challenge');
    for (const v of [
      '', 'Digest', 'Digest nonce="abc"', 'Digest realm="spike"', 'Digest realm="spike", nonce=""', 'Basic realm="x"',
      'Digest realm="spike", nonce="a", nonce="b"', 'Digest realm="unterminated, nonce="abc"', 'Digest realm=', '"Digest"',
      'Digest realm="r" nonce="n"', 'Digest ,,,', 'Digest realm="r", nonce="n", =x', '\u0000\u0001', 'Digest realm="r", nonce="n", qop="auth',
    ]) {
      authError(() => parseDigestChallenges([v]), 'malformed-challenge');
    }
    // A broken header does not hide a good one.
    assert.equal(parseDigestChallenges(['Digest realm=', 'Digest realm="ok", nonce="n"'])[0]!.realm, 'ok');
  });
});

describe('Authorization values', () => {
  const challenge: DigestChallenge = { realm: 'spike', nonce: 'awfcQ2sH2xfFPa6ulvF5soFJwlm6BdMI', stale: false, algorithm: 'MD5', qop: ['auth'], userhash: false };

  test('kamailio-compatible REGISTER credentials, checked against an independent computation', () => {
    const v = buildDigestAuthorization(challenge, { username: 'alice', password: 'secret1', method: 'REGISTER', uri: 'sip:127.0.0.1:5060', nc: 1, cnonce: '6b8b4567' });
    const ha1 = md5('alice:spike:secret1');
    const ha2 = md5('REGISTER:sip:127.0.0.1:5060');
    const expected = md5(`${ha1}:${challenge.nonce}:00000001:6b8b4567:auth:${ha2}`);
    assert.equal(
      v,
      `Digest username="alice", realm="spike", nonce="${challenge.nonce}", uri="sip:127.0.0.1:5060", response="${expected}", algorithm=MD5, cnonce="6b8b4567", qop=auth, nc=00000001`,
    );
  });

  test('special-character and Unicode credentials round-trip', () => {
    for (const [username, password] of [
      ['a:b;c"d\\e@f', 'p:w;x"y\\z@'],
      ['Jürgen 山田', 'pässwörd 🔑'],
      ['tab\tname', ' lead and trail '],
      ['ctl\x01name', 'p4ss-ctl'],
      ['line\r\nbreak', 'p4ss-crlf'],
    ] as const) {
      const v = buildDigestAuthorization(challenge, { username, password, method: 'INVITE', uri: 'sip:carol@127.0.0.1:5060', nc: 7, cnonce: 'cn' });
      const creds = parseDigestCredentials(v);
      assert.equal(creds.username, username);
      assert.equal(creds.nc, '00000007');
      const ha1 = md5(`${username}:spike:${password}`);
      assert.equal(creds.response, md5(`${ha1}:${challenge.nonce}:00000007:cn:auth:${md5('INVITE:sip:carol@127.0.0.1:5060')}`));
      assert.equal(v.includes(password), false);
      assert.equal(/[\r\n]/.test(v), false);
    }
    assert.match(buildDigestAuthorization(challenge, { username: 'ctl\x01name', password: 'x', method: 'M', uri: 'u', nc: 1, cnonce: 'c' }), /username\*=UTF-8''ctl%01name/);
  });

  test('userhash, opaque echo, RFC 2069 form, input checks', () => {
    const uh = buildDigestAuthorization({ ...challenge, userhash: true, opaque: 'op"q' }, { username: 'alice', password: 'p', method: 'M', uri: 'u', nc: 1, cnonce: 'c' });
    const creds = parseDigestCredentials(uh);
    assert.equal(creds.username, md5('alice:spike'));
    assert.equal(creds.userhash, true);
    assert.equal(creds.opaque, 'op"q');
    const plain = buildDigestAuthorization({ ...challenge, qop: [] }, { username: 'a', password: 'p', method: 'M', uri: 'u', nc: 1, cnonce: 'c' });
    assert.doesNotMatch(plain, /cnonce|qop|nc=/);
    authError(() => buildDigestAuthorization(challenge, { username: 'a', password: 'p', method: 'M\r\n', uri: 'u', nc: 1, cnonce: 'c' }), 'invalid-input');
    authError(() => buildDigestAuthorization(challenge, { username: 'a', password: 'p', method: 'M', uri: 'u\r\n', nc: 1, cnonce: 'c' }), 'invalid-input');
    authError(() => buildDigestAuthorization(challenge, { username: 'a', password: 'p', method: 'M', uri: 'u', nc: 0, cnonce: 'c' }), 'invalid-input');
    authError(() => buildDigestAuthorization(challenge, { username: 'a', password: 'p', method: 'M', uri: 'u', nc: 2 ** 32, cnonce: 'c' }), 'invalid-input');
    authError(() => buildDigestAuthorization({ ...challenge, algorithm: 'X' }, { username: 'a', password: 'p', method: 'M', uri: 'u', nc: 1, cnonce: 'c' }), 'unsupported-challenge');
  });
});

describe('DigestClient', () => {
  const www = (value?: string, status = 401): { status: number; headers: SipHeaders } => {
    const headers = new SipHeaders();
    if (value !== undefined) headers.append(status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate', value);
    return { status, headers };
  };
  const register = (auth: { name: string; value: string }[] = []): { method: string; uri: string; headers: SipHeaders } => ({
    method: 'REGISTER',
    uri: 'sip:127.0.0.1:5060',
    headers: new SipHeaders(auth),
  });
  let n = 0;
  const client = (): DigestClient => new DigestClient({ username: 'alice', password: 's3cr:et"' }, { cnonce: () => `cn${++n}` });

  test('401 → Authorization, 407 → Proxy-Authorization, nc increments per nonce', () => {
    const c = client();
    const [a] = c.respond(www('Digest realm="spike", nonce="N1", qop="auth"'), register());
    assert.equal(a!.name, 'Authorization');
    assert.equal(parseDigestCredentials(a!.value).nc, '00000001');
    const [pre] = c.authorize({ method: 'REGISTER', uri: 'sip:127.0.0.1:5060' });
    assert.equal(parseDigestCredentials(pre!.value).nc, '00000002');
    assert.equal(parseDigestCredentials(pre!.value).nonce, 'N1');
    const [p] = c.respond(www('Digest realm="proxy", nonce="P1", qop="auth"', 407), { method: 'INVITE', uri: 'sip:carol@127.0.0.1', headers: new SipHeaders() });
    assert.equal(p!.name, 'Proxy-Authorization');
    assert.equal(parseDigestCredentials(p!.value).nc, '00000001');
    assert.equal(c.authorize({ method: 'BYE', uri: 'sip:x@y' }).length, 2);
  });

  test('stale=true retries with the new nonce; a re-challenge without stale is a rejection', () => {
    const c = client();
    const [a] = c.respond(www('Digest realm="spike", nonce="N1", qop="auth"'), register());
    const [b] = c.respond(www('Digest realm="spike", nonce="N2", qop="auth", stale=true'), register([a!]));
    assert.equal(parseDigestCredentials(b!.value).nonce, 'N2');
    assert.equal(parseDigestCredentials(b!.value).nc, '00000001');
    authError(() => c.respond(www('Digest realm="spike", nonce="N2", qop="auth"'), register([b!])), 'rejected');
    // Kamailio issues a fresh nonce with every challenge: a wrong password must still end.
    const d = client();
    const [x] = d.respond(www('Digest realm="spike", nonce="K1", qop="auth"'), register());
    authError(() => d.respond(www('Digest realm="spike", nonce="K2", qop="auth"'), register([x!])), 'rejected');
  });

  test('endless stale nonces end in stale-loop', () => {
    const c = new DigestClient({ username: 'a', password: 'p' }, { maxStaleRetries: 2 });
    let [h] = c.respond(www('Digest realm="r", nonce="0", qop="auth"'), register());
    [h] = c.respond(www('Digest realm="r", nonce="1", qop="auth", stale=true'), register([h!]));
    [h] = c.respond(www('Digest realm="r", nonce="2", qop="auth", stale=true'), register([h!]));
    authError(() => c.respond(www('Digest realm="r", nonce="3", qop="auth", stale=true'), register([h!])), 'stale-loop');
  });

  test('a new request challenged afresh is not a failure', () => {
    const c = client();
    c.respond(www('Digest realm="spike", nonce="N1", qop="auth"'), register());
    const [again] = c.respond(www('Digest realm="spike", nonce="N1", qop="auth"'), register());
    assert.equal(parseDigestCredentials(again!.value).nc, '00000001');
  });

  test('one answer per realm; realm restriction', () => {
    const headers = new SipHeaders()
      .append('Proxy-Authenticate', 'Digest realm="a", nonce="1", qop="auth"')
      .append('Proxy-Authenticate', 'Digest realm="b", nonce="2", qop="auth", algorithm=SHA-256')
      .append('Proxy-Authenticate', 'Digest realm="b", nonce="3", qop="auth"');
    const out = client().respond({ status: 407, headers }, { method: 'INVITE', uri: 'sip:x@y', headers: new SipHeaders() });
    assert.deepEqual(out.map((h) => parseDigestCredentials(h.value).nonce), ['1', '2']);
    const only = new DigestClient({ username: 'u', password: 'p', realm: 'b' });
    assert.equal(only.respond({ status: 407, headers }, { method: 'INVITE', uri: 'sip:x@y', headers: new SipHeaders() }).length, 1);
    const none = new DigestClient({ username: 'u', password: 'p', realm: 'c' });
    authError(() => none.respond({ status: 407, headers }, { method: 'INVITE', uri: 'sip:x@y', headers: new SipHeaders() }), 'unsupported-challenge');
  });

  test('malformed 401/407 (janus #2419, drachtio uas-407-no-auth-header)', () => {
    const c = client();
    authError(() => c.respond(www(), register()), 'missing-challenge');
    authError(() => c.respond(www(undefined, 407), register()), 'missing-challenge');
    authError(() => c.respond(www('Digest nonce="x"'), register()), 'malformed-challenge');
    authError(() => c.respond(www('Digest realm="spike"'), register()), 'malformed-challenge');
    authError(() => c.respond(www('Basic realm="x"'), register()), 'malformed-challenge');
    authError(() => c.respond(www('Digest realm="r", nonce="n", algorithm=FOO'), register()), 'unsupported-challenge');
    authError(() => c.respond({ status: 200, headers: new SipHeaders() }, register()), 'invalid-input');
    // 401 with Proxy-Authenticate only: the wrong header for the status is not used.
    authError(() => c.respond({ status: 401, headers: new SipHeaders().append('Proxy-Authenticate', 'Digest realm="r", nonce="n"') }, register()), 'missing-challenge');
  });

  test('the password never shows up in string, JSON, inspect or errors', () => {
    const secret = 'Sup3r-S3cret!';
    const c = new DigestClient({ username: 'alice', password: secret });
    const [h] = c.respond(www('Digest realm="spike", nonce="N", qop="auth"'), register());
    const rendered = [String(c), JSON.stringify(c), inspect(c, { showHidden: true, depth: 5 }), h!.value, `${c}`];
    for (const s of rendered) assert.equal(s.includes(secret), false, s);
    const err = authError(() => c.respond(www('Digest realm="spike", nonce="N2", qop="auth"'), register([h!])), 'rejected');
    assert.equal(`${err.message}${err.stack}`.includes(secret), false);
    assert.equal(c.username, 'alice');
  });
});
