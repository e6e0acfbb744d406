import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SipFormatError, SipParseError } from './errors.js';
import { formatNameAddr, parseNameAddr } from './NameAddr.js';
import { formatParams, getParam, headerParams } from './params.js';
import { formatSipUri, isAbsoluteUri, parseSipUri, uriScheme } from './SipUri.js';
import { formatVia, isRfc3261Branch, parseVia } from './Via.js';

describe('SIP URIs', () => {
  test('full URI with every component', () => {
    const u = parseSipUri('SIPS:al%69ce:p%40ss@[2001:db8::10]:5061;transport=tcp;lr;maddr=239.255.255.1?Subject=hi%20there&Priority=urgent');
    assert.deepEqual(u, {
      scheme: 'sips',
      user: 'alice',
      password: 'p@ss',
      host: '[2001:db8::10]',
      port: 5061,
      params: [
        { name: 'transport', value: 'tcp' },
        { name: 'lr', value: null },
        { name: 'maddr', value: '239.255.255.1' },
      ],
      headers: [
        { name: 'Subject', value: 'hi there' },
        { name: 'Priority', value: 'urgent' },
      ],
    });
    assert.equal(formatSipUri(u), 'sips:alice:p%40ss@[2001:db8::10]:5061;transport=tcp;lr;maddr=239.255.255.1?Subject=hi%20there&Priority=urgent');
  });

  test('host-only, IPv4, telephone user, trailing-dot domain', () => {
    assert.deepEqual(parseSipUri('sip:example.com'), { scheme: 'sip', host: 'example.com', params: [], headers: [] });
    assert.equal(parseSipUri('sip:192.0.2.4:5060').port, 5060);
    assert.equal(parseSipUri('sip:+1-212-555-1212;phone-context=x@gw.example.com;user=phone').user, '+1-212-555-1212;phone-context=x');
    assert.equal(parseSipUri('sip:host.example.com.').host, 'host.example.com.');
    assert.equal(parseSipUri('sip:a@_srv.example.com').host, '_srv.example.com');
  });

  test('format escapes what needs escaping and round-trips', () => {
    const u = { scheme: 'sip' as const, user: 'a b@c:d"é', password: 'p:w', host: 'example.com', params: [{ name: 'x', value: 'a;b' }], headers: [] };
    const s = formatSipUri(u);
    assert.equal(s, 'sip:a%20b%40c%3Ad%22%C3%A9:p%3Aw@example.com;x=a%3Bb');
    assert.deepEqual(parseSipUri(s), u);
    assert.throws(() => formatSipUri({ ...u, host: 'bad host' }), SipFormatError);
    assert.throws(() => formatSipUri({ ...u, port: 70000 }), SipFormatError);
    assert.throws(() => formatSipUri({ ...u, user: '' }), SipFormatError);
  });

  test('invalid URIs', () => {
    const bad = [
      'sip:', 'sip:@example.com', 'sip:a@b@example.com', 'sip:a b@example.com', 'sip:a@example.com:', 'sip:a@example.com:99999',
      'sip:a@example.com;', 'sip:a@example.com;;lr', 'sip:a@example.com;x=', 'sip:a@example.com?', 'sip:a@example.com?x',
      'sip:a@[::1', 'sip:a@[zz::1]', 'sip:a@256.1.1.1', 'sip:a@-bad.com', 'sip:a@exa mple.com', 'sip:%4@example.com',
      'sip:%zz@example.com', 'sip:a@example.com;x="y"', 'tel:+123', '<sip:a@example.com>', 'sip:a@example.com>',
    ];
    for (const s of bad) assert.throws(() => parseSipUri(s), SipParseError, s);
  });

  test('absoluteURI check for other schemes', () => {
    assert.equal(uriScheme('Soap.Beep://x'), 'soap.beep');
    assert.equal(uriScheme('1abc:x'), null);
    for (const ok of ['tel:+1-201-555-0123', 'soap.beep://192.0.2.103:3002', 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6', 'http://[::1]/x?y=1']) {
      assert.equal(isAbsoluteUri(ok), true, ok);
    }
    for (const bad of ['tel:', 'a b:c', 'x:<y>', 'x:%4', 'nocolon', 'x:a"b']) assert.equal(isAbsoluteUri(bad), false, bad);
  });
});

describe('name-addr / addr-spec', () => {
  test('forms and parameters', () => {
    assert.deepEqual(parseNameAddr('"Alice \\"A\\"" <sip:alice@example.com>;tag=88sja8x'), {
      displayName: 'Alice "A"',
      uri: 'sip:alice@example.com',
      params: [{ name: 'tag', value: '88sja8x' }],
    });
    assert.deepEqual(parseNameAddr('Anonymous   Caller <sip:c@example.com>'), {
      displayName: 'Anonymous Caller',
      uri: 'sip:c@example.com',
      params: [],
    });
    assert.deepEqual(parseNameAddr('sip:a@example.com;tag=1;expires=60'), {
      uri: 'sip:a@example.com',
      params: [{ name: 'tag', value: '1' }, { name: 'expires', value: '60' }],
    });
    const inst = parseNameAddr('<sip:a@192.0.2.1;transport=tcp>;+sip.instance="<urn:uuid:1234>";reg-id=1');
    assert.deepEqual(getParam(inst.params, '+SIP.INSTANCE'), { name: '+sip.instance', value: '<urn:uuid:1234>', quoted: true });
    assert.equal(parseNameAddr('Jörg <sip:j@example.com>').displayName, 'Jörg');
    assert.equal(parseNameAddr('<sip:a@example.com>;received=[2001:db8::1]').params[0]!.value, '[2001:db8::1]');
  });

  test('rejections', () => {
    const bad = [
      '"unterminated <sip:a@example.com>', 'Bell, Alexander <sip:a@example.com>', '< sip:a@example.com>', '<sip:a@example.com >',
      'sip:a@example.com?Route=x', 'sip:a@example.com,sip:b@example.com', '<sip:a@example.com', '"x" sip:a@example.com',
      '<sip:a@example.com>;;tag=1', '<sip:a@example.com>;tag=', '<sip:a@example.com> junk', '', '<>', 'A\x01B <sip:a@example.com>',
    ];
    for (const s of bad) assert.throws(() => parseNameAddr(s), SipParseError, JSON.stringify(s));
    assert.throws(() => parseNameAddr('sip:proxy.example.com;lr', { requireAngle: true }), SipParseError);
  });

  test('format always brackets and quotes', () => {
    const na = { displayName: 'Bell, "Alex" \\', uri: 'sip:a@example.com;lr', params: [{ name: 'tag', value: 'x' }, { name: 'q', value: '0.5' }] };
    const s = formatNameAddr(na);
    assert.equal(s, '"Bell, \\"Alex\\" \\\\" <sip:a@example.com;lr>;tag=x;q=0.5');
    assert.deepEqual(parseNameAddr(s), na);
    assert.equal(formatNameAddr({ uri: 'tel:+123', params: [] }), '<tel:+123>');
    assert.throws(() => formatNameAddr({ uri: 'sip:a@b>;x', params: [] }), SipFormatError);
    assert.throws(() => formatNameAddr({ displayName: 'a\r\nb', uri: 'sip:a@b', params: [] }), SipFormatError);
  });
});

describe('Via', () => {
  test('parses sent-protocol, sent-by and params', () => {
    const v = parseVia('SIP/2.0/udp pc33.example.com:5066;branch=z9hG4bK776asdhds;received=192.0.2.1;rport=5067;ttl=16;maddr=224.2.0.1');
    assert.equal(v.protocol, 'SIP');
    assert.equal(v.version, '2.0');
    assert.equal(v.transport, 'UDP');
    assert.equal(v.host, 'pc33.example.com');
    assert.equal(v.port, 5066);
    assert.equal(v.branch, 'z9hG4bK776asdhds');
    assert.equal(v.received, '192.0.2.1');
    assert.equal(v.rport, 5067);
    assert.equal(v.ttl, 16);
    assert.equal(v.maddr, '224.2.0.1');
    assert.equal(parseVia('SIP/2.0/TCP [2001:db8::9]:5060;rport;branch=z9hG4bKa').rport, true);
    assert.equal(parseVia('SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKx;received=2001:db8::9').received, '2001:db8::9');
    assert.equal(parseVia('SIP / 2.0 / UDP  h.example.com : 5060 ; branch = z9hG4bKx').port, 5060);
  });

  test('rejections', () => {
    const bad = [
      '', 'SIP/2.0/UDP', 'SIP/2.0 UDP h', 'SIP/2.0/UDPh', 'SIP/2.0/UDP h;;', 'SIP/2.0/UDP h;branch', 'SIP/2.0/UDP h;branch=a"b"',
      'SIP/2.0/UDP h:0x10', 'SIP/2.0/UDP h:70000', 'SIP/2.0/UDP h;rport=x', 'SIP/2.0/UDP h;received=example.com',
      'SIP/2.0/UDP h;ttl=300', 'SIP/2.0/UDP [::1;branch=z9hG4bKa', 'SIP/2.0/UDP h junk',
    ];
    for (const s of bad) assert.throws(() => parseVia(s), SipParseError, s);
  });

  test('format', () => {
    const s = formatVia({ protocol: 'SIP', version: '2.0', transport: 'TCP', host: '192.0.2.1', port: 5060, params: [{ name: 'branch', value: 'z9hG4bK1' }, { name: 'rport', value: null }] });
    assert.equal(s, 'SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK1;rport');
    assert.equal(parseVia(s).branch, 'z9hG4bK1');
    assert.throws(() => formatVia({ protocol: 'SIP', version: '2.0', transport: 'T CP', host: 'h', params: [] }), SipFormatError);
    assert.equal(isRfc3261Branch(undefined), false);
    assert.equal(isRfc3261Branch('abc'), false);
  });
});

describe('headerParams', () => {
  test('reads params after the main value, ignoring ; inside <> and quotes', () => {
    assert.deepEqual(headerParams('<sip:a@b;lr>;tag=x'), [{ name: 'tag', value: 'x' }]);
    assert.deepEqual(headerParams('application/sdp ; charset = "utf-8"'), [{ name: 'charset', value: 'utf-8', quoted: true }]);
    assert.deepEqual(headerParams('"a;b" <sip:x@y>'), []);
    assert.deepEqual(headerParams('active;expires=3600'), [{ name: 'expires', value: '3600' }]);
    assert.throws(() => headerParams('x;;'), SipParseError);
    assert.equal(formatParams([{ name: 'a', value: 'b c' }, { name: 'f', value: null }, { name: 'q', value: 'x', quoted: true }]), ';a="b c";f;q="x"');
    assert.throws(() => formatParams([{ name: 'a b', value: null }]), SipFormatError);
  });
});
