/** WebRTC egress settings (docs/configuration.md). */
export interface WebRtcSettings {
  /** Address the ICE sockets bind to; its host candidate goes into every answer. */
  readonly bindAddress: string;
  /** Extra addresses announced as host candidates with the same port (public IP behind NAT). */
  readonly publicAddresses: readonly string[];
  readonly portRangeBegin: number;
  readonly portRangeEnd: number;
  /** All viewers on one UDP port (portRangeBegin). */
  readonly iceUdpMux: boolean;
  /** Be the DTLS server so that AEAD-AES-GCM SRTP is chosen (cheaper per packet). */
  readonly preferGcm: boolean;
  /** A viewer whose ICE+DTLS is not up by then fails. */
  readonly connectTimeoutMs: number;
}
