/**
 * Which peers exist on this machine, and the policy for missing ones: a test that needs a peer FAILS when it
 * is missing (CI installs them all), unless SIPCAST_E2E_SKIP_MISSING_PEERS=1 is set explicitly for a local run,
 * in which case the tests are skipped with the reason.
 *
 *   test.beforeAll(() => requirePeers(['kamailio', 'baresip', 'sipp']));
 */
import { existsSync } from 'node:fs';
import { test } from '@playwright/test';
import { BARESIP_MODULE_DIR } from './baresip';
import { findRtmpModule } from './nginx';
import { findBinary } from './process';

export type PeerName = 'kamailio' | 'baresip' | 'sipp' | 'sippPcapPlay' | 'nginxRtmp' | 'ffmpeg' | 'ffprobe';

export interface PeerAvailability {
  available: boolean;
  /** What is missing / why not usable. */
  problem?: string;
  path?: string;
}

const BARESIP_MODULES = ['g711.so', 'opus.so', 'aufile.so', 'avcodec.so', 'avformat.so', 'fakevideo.so', 'ctrl_tcp.so', 'account.so', 'menu.so', 'uuid.so'];

function bin(name: string, pkg: string): PeerAvailability {
  const p = findBinary(name);
  return p ? { available: true, path: p } : { available: false, problem: `${name} not found (Debian package ${pkg})` };
}

/** What is installed. Cheap (file system checks only). */
export function peersAvailable(): Record<PeerName, PeerAvailability> {
  const baresip = bin('baresip', 'baresip-core');
  if (baresip.available) {
    const missing = BARESIP_MODULES.filter((m) => !existsSync(`${BARESIP_MODULE_DIR}/${m}`));
    if (missing.length > 0) {
      Object.assign(baresip, {
        available: false,
        problem: `baresip modules missing in ${BARESIP_MODULE_DIR}: ${missing.join(', ')} (baresip-core, baresip-ffmpeg)`,
      });
    }
  }
  const nginx = bin('nginx', 'nginx');
  if (nginx.available && !findRtmpModule()) Object.assign(nginx, { available: false, problem: 'ngx_rtmp_module.so not found (libnginx-mod-rtmp)' });
  const sipp = bin('sipp', 'sip-tester');
  const isRoot = process.getuid?.() === 0;
  const sippPcapPlay: PeerAvailability = !sipp.available
    ? { ...sipp }
    : isRoot
      ? { available: true, path: sipp.path }
      : { available: false, problem: 'SIPp pcap_play needs root (raw socket); run the tests as root' };
  return {
    kamailio: bin('kamailio', 'kamailio'),
    baresip,
    sipp,
    sippPcapPlay,
    nginxRtmp: nginx,
    ffmpeg: bin('ffmpeg', 'ffmpeg'),
    ffprobe: bin('ffprobe', 'ffmpeg'),
  };
}

export const SKIP_ENV = 'SIPCAST_E2E_SKIP_MISSING_PEERS';

/**
 * Throws (the test fails) when a needed peer is missing; with SIPCAST_E2E_SKIP_MISSING_PEERS=1 skips the
 * current test / the tests of the hook's group instead. Call it in a test or a beforeAll/beforeEach hook.
 */
export function requirePeers(names: PeerName[]): void {
  const avail = peersAvailable();
  const problems = names.filter((n) => !avail[n].available).map((n) => `${n}: ${avail[n].problem ?? 'missing'}`);
  if (problems.length === 0) return;
  const msg = `SIP/RTMP peers missing: ${problems.join('; ')}`;
  if (process.env[SKIP_ENV] === '1') {
    test.skip(true, `${msg} (skipped because ${SKIP_ENV}=1)`);
    return;
  }
  throw new Error(`${msg}. Install them (scripts/ensure-deps.sh --apt) or set ${SKIP_ENV}=1 to skip locally.`);
}
