/**
 * Every setting: its key in a settings file (WCS flashphoner.properties style where WCS has one),
 * its environment override and its default. docs/configuration.md is generated from this table.
 */
import { EGRESS_SETTING_KEYS } from '../egress/egressSettings.js';

export type SettingType = 'string' | 'int' | 'bool' | 'list' | 'regex';

export interface SettingKey {
  readonly key: string;
  readonly env: string;
  readonly type: SettingType;
  readonly def: string;
  readonly doc: string;
  readonly min?: number;
  readonly max?: number;
}

export const SETTING_KEYS = [
  { key: 'bind_address', env: 'SIPCAST_BIND', type: 'string', def: '127.0.0.1', doc: 'Address of the WebSocket, HTTP, WebRTC, SIP and RTP sockets. Any address but loopback requires `rest_token` and `ws_token`.' },
  { key: 'ws_port', env: 'SIPCAST_WS_PORT', type: 'int', def: '8080', min: 0, max: 65535, doc: 'WebSocket port (WCS protocol); 0 picks a free port' },
  { key: 'http_port', env: 'SIPCAST_HTTP_PORT', type: 'int', def: '8081', min: 0, max: 65535, doc: 'HTTP port: `/rest-api/*`, example pages, `/sdk/`' },
  { key: 'rest_token', env: 'SIPCAST_REST_TOKEN', type: 'string', def: '', doc: 'Bearer token every REST call must carry (`Authorization: Bearer …`); 401 without, 403 wrong' },
  { key: 'ws_token', env: 'SIPCAST_WS_TOKEN', type: 'string', def: '', doc: 'Token every WebSocket `connection` must carry as `authToken`; the session fails otherwise' },
  { key: 'cors_origins', env: 'SIPCAST_CORS_ORIGINS', type: 'list', def: '', doc: 'Comma-separated origins allowed to call the REST API from a browser (`*` for any); the served pages are same-origin and always work' },
  { key: 'public_ip', env: 'SIPCAST_PUBLIC_IP', type: 'list', def: '', doc: 'Addresses announced as extra WebRTC host candidates (same port), for a server behind NAT' },
  { key: 'ice_port_min', env: 'SIPCAST_ICE_PORT_MIN', type: 'int', def: '40000', min: 1024, max: 65535, doc: 'First UDP port for WebRTC media' },
  { key: 'ice_port_max', env: 'SIPCAST_ICE_PORT_MAX', type: 'int', def: '49999', min: 1024, max: 65535, doc: 'Last UDP port for WebRTC media' },
  { key: 'ice_udp_mux', env: 'SIPCAST_ICE_UDP_MUX', type: 'bool', def: 'false', doc: 'All viewers on one UDP port (`ice_port_min`)' },
  { key: 'srtp_prefer_gcm', env: 'SIPCAST_SRTP_PREFER_GCM', type: 'bool', def: 'true', doc: 'Take the DTLS server role so that AEAD-AES-GCM SRTP is negotiated ([webrtc.md](webrtc.md))' },
  { key: 'ice_timeout_ms', env: 'SIPCAST_ICE_TIMEOUT_MS', type: 'int', def: '15000', min: 1000, max: 600000, doc: 'A viewer whose ICE + DTLS is not up by then gets FAILED' },
  { key: 'ping_interval_ms', env: 'SIPCAST_PING_INTERVAL_MS', type: 'int', def: '5000', min: 100, max: 600000, doc: 'WebSocket `ping` interval; a client that answers none of 3 in a row is dropped' },
  { key: 'sip_port', env: 'SIPCAST_SIP_PORT', type: 'int', def: '5080', min: 0, max: 65535, doc: 'Local SIP port (UDP and TCP) for outgoing calls; 0 picks a free port' },
  { key: 'sip_public_ip', env: 'SIPCAST_SIP_PUBLIC_IP', type: 'string', def: '', doc: 'Address written into Via, Contact and the SDP of SIP calls (default: `bind_address`)' },
  { key: 'rtp_port_min', env: 'SIPCAST_RTP_PORT_MIN', type: 'int', def: '30000', min: 1024, max: 65535, doc: 'First UDP port for SIP-side RTP/RTCP' },
  { key: 'rtp_port_max', env: 'SIPCAST_RTP_PORT_MAX', type: 'int', def: '30999', min: 1024, max: 65535, doc: 'Last UDP port for SIP-side RTP/RTCP' },
  { key: 'rtp_session_init_always', env: 'SIPCAST_RTP_SESSION_INIT_ALWAYS', type: 'bool', def: 'true', doc: 'Send RTP/RTCP towards the callee at once so its symmetric-RTP latching and NAT bindings open (WCS)' },
  { key: 'rtp_activity_detecting', env: 'SIPCAST_RTP_ACTIVITY_DETECTING', type: 'int', def: '20', min: 0, max: 86400, doc: 'End a call with "Failed by RTP activity" after this many seconds without incoming RTP; 0 = off (WCS)' },
  { key: 'sip_single_route_only', env: 'SIPCAST_SIP_SINGLE_ROUTE_ONLY', type: 'bool', def: 'false', doc: 'Send every request of a call to the configured proxy only, ignoring Record-Route (WCS)' },
  { key: 'max_calls', env: 'SIPCAST_MAX_CALLS', type: 'int', def: '100', min: 1, max: 100000, doc: 'Concurrent calls; more get 503' },
  { key: 'max_call_duration', env: 'SIPCAST_MAX_CALL_DURATION', type: 'int', def: '14400', min: 0, max: 604800, doc: 'Seconds after which a call is hung up; 0 = unlimited' },
  { key: 'ring_timeout', env: 'SIPCAST_RING_TIMEOUT', type: 'int', def: '60', min: 0, max: 3600, doc: 'Seconds an unanswered call may ring before it is cancelled; 0 = unlimited' },
  { key: 'callee_allow_pattern', env: 'SIPCAST_CALLEE_ALLOW_PATTERN', type: 'regex', def: '', doc: 'Regular expression a callee must match (full match) — guards against toll fraud' },
  { key: 'demo', env: 'SIPCAST_DEMO', type: 'bool', def: 'true', doc: 'Publish the built-in looping `demo` stream' },
  { key: 'demo_callee', env: 'SIPCAST_DEMO_CALLEE', type: 'bool', def: 'true', doc: 'Run the demo SIP callee (answers any call, sends the demo clip as RTP)' },
  { key: 'demo_callee_port', env: 'SIPCAST_DEMO_CALLEE_PORT', type: 'int', def: '5090', min: 0, max: 65535, doc: 'SIP port of the demo callee (`sip:demo@127.0.0.1:5090`)' },
  { key: 'demo_clip', env: 'SIPCAST_DEMO_CLIP', type: 'string', def: '', doc: 'The demo clip (default `packages/server/assets/demo.sclip`, made by `scripts/make-demo-clip.sh`)' },
  { key: 'web_root', env: 'SIPCAST_WEB_ROOT', type: 'string', def: '', doc: 'Folder served at `/` (default: `examples`)' },
  { key: 'sdk_dist', env: 'SIPCAST_SDK_DIST', type: 'string', def: '', doc: 'Folder served at `/sdk/` (default: `packages/sdk/dist`)' },
  { key: 'log_level', env: 'SIPCAST_LOG_LEVEL', type: 'string', def: 'info', doc: '`debug`, `info`, `warn`, `error`, `silent` (to stderr)' },
  ...EGRESS_SETTING_KEYS,
] as const satisfies readonly SettingKey[];

export type SettingName = (typeof SETTING_KEYS)[number]['key'];
