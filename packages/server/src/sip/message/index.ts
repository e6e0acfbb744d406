/**
 * sipcast's SIP message layer: parsing, serialization, stream framing, URIs and addresses,
 * Via, and digest authentication. No sockets and no transactions live here.
 */
export { SipParseError, SipFormatError, type SipParsePartial, type SipParseErrorOptions } from './errors.js';
export * as limits from './limits.js';
export { SipHeaders, type SipHeader } from './SipHeaders.js';
export { canonicalHeaderName } from './headerNames.js';
export {
  parseSipMessage,
  serializeSipMessage,
  isKeepAlive,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type SipParseOptions,
} from './SipMessage.js';
export { SipStreamFramer, type SipStreamEvent, type SipStreamFramerOptions } from './SipStreamFramer.js';
export { SIP_VERSION } from './startLine.js';
export { parseCSeq, parseMaxForwards, parseContentLength, isValidCallId, type CSeq } from './scalars.js';
export {
  parseSipUri,
  formatSipUri,
  isAbsoluteUri,
  uriScheme,
  validateUri,
  type SipUri,
  type UriHeader,
} from './SipUri.js';
export { parseNameAddr, formatNameAddr, type NameAddr, type ParseNameAddrOptions } from './NameAddr.js';
export { parseVia, formatVia, isRfc3261Branch, BRANCH_MAGIC_COOKIE, type Via } from './Via.js';
export { headerParams, getParam, formatParams, parseParamList, type Param } from './params.js';
export {
  DigestAuthError,
  parseDigestChallenges,
  selectDigestChallenge,
  isSupportedChallenge,
  computeDigestResponse,
  buildDigestAuthorization,
  parseDigestCredentials,
  type DigestAuthErrorCode,
  type DigestAlgorithm,
  type DigestChallenge,
  type DigestResponseInput,
  type DigestAuthorizationInput,
  type DigestCredentialsValue,
} from './DigestAuth.js';
export {
  DigestClient,
  type DigestCredentials,
  type DigestRequest,
  type DigestChallengeResponse,
  type DigestClientOptions,
} from './DigestClient.js';
