/**
 * Real SIP / RTMP peers for e2e tests (Kamailio, baresip, SIPp, nginx-rtmp, ffmpeg), all on 127.0.0.1.
 * See tests/peers/README.md for the configs, ports and the known limits of each peer.
 */
export { peersAvailable, requirePeers, SKIP_ENV, type PeerAvailability, type PeerName } from './available';
export { startBaresip, type Baresip, type BaresipAudioCodec, type BaresipEvent, type BaresipResponse, type StartBaresipOptions } from './baresip';
export { ffprobe, startRtmpPush, type FfprobeOptions, type FfprobeResult, type FfprobeStream, type PushAudio, type RtmpPush, type RtmpPushOptions } from './ffmpeg';
export { SIP_REALM, SIP_USERS, sipOptionsPing, startKamailio, type Kamailio, type SipUser, type StartKamailioOptions } from './kamailio';
export { ensurePeerMedia, MEDIA_DIR, MEDIA_FILES, PCAP_SECONDS } from './media';
export { parseRtmpStat, startNginxRtmp, type NginxRtmp, type RtmpStreamInfo, type StartNginxRtmpOptions } from './nginx';
export { pickPort, pickPorts, releasePorts, tcpFree, udpFree } from './ports';
export { type PeerExit, type PeerProcess } from './process';
export { h264RtpToAnnexB, startRtpTap, type H264Summary, type PortStats, type RtpTap, type RtpTapStats, type StartRtpTapOptions } from './rtpTap';
export {
  runSippUac,
  sippRegister,
  startSippUac,
  startSippUas,
  type HostPort,
  type SippProcess,
  type SippResult,
  type SippUas,
  type StartSippUacOptions,
  type StartSippUasOptions,
} from './sipp';
