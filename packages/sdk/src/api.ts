import { ERROR_INFO, constants } from './constants';
import { NotInitializedError, MissingOptionError } from './errors';
import { Logger } from './Logger';
import { LOCAL_CACHED_VIDEO, REMOTE_CACHED_VIDEO, createVideoElement, findCachedVideo } from './MediaElementHandler';
import { Session } from './Session';
import type { CreateSessionOptions, InitOptions } from './types';
import { uuid } from './uuid';

let initialized = false;
let logger = new Logger();
const sessions = new Map<string, Session>();
let audioContext: AudioContext | undefined;

/**
 * Initialises the API. Idempotent: only the first call has an effect.
 * Returns a Promise for Flashphoner compatibility; the API is usable as soon
 * as `init` returns.
 */
export function init(options: InitOptions = {}): Promise<void> {
  if (!initialized) {
    if (options.logger !== undefined) logger = new Logger(options.logger);
    initialized = true;
    logger.info('core', 'Initialized');
    options.mediaProvidersReadyCallback?.(getMediaProviders());
  }
  return Promise.resolve();
}

/**
 * Creates a session and starts connecting at once.
 *
 * @throws Error "Flashphoner API is not initialized" before {@link init}.
 * @throws TypeError "options.urlServer must be provided".
 */
export function createSession(options: CreateSessionOptions): Session {
  if (!initialized) {
    throw new NotInitializedError(ERROR_INFO.FLASHPHONER_API_NOT_INITIALIZED);
  }
  if (!options || !options.urlServer) {
    throw new MissingOptionError(ERROR_INFO.OPTIONS_URLSERVER_MUST_BE_PROVIDED);
  }
  const sessionLogger = options.logger !== undefined ? new Logger(options.logger) : logger;
  const session = new Session(options, sessionLogger, (s) => sessions.delete(s.id()));
  sessions.set(session.id(), session);
  return session;
}

/** The sessions that are not DISCONNECTED or FAILED. */
export function getSessions(): Session[] {
  return Array.from(sessions.values());
}

/** A live session by id. */
export function getSession(id: string): Session | undefined {
  return sessions.get(id);
}

/** Available media providers. sipcast: always `["WebRTC"]` (Flashphoner also lists MSE and WSPlayer). */
export function getMediaProviders(): string[] {
  return ['WebRTC'];
}

/** The SDK logger. */
export function getLogger(): Logger {
  return logger;
}

/**
 * Plays a tiny silent sound to unlock audio (call it from a user gesture,
 * e.g. iOS). Returns false if Web Audio is not available.
 */
export function playFirstSound(): boolean {
  const Ctor =
    typeof window === 'undefined'
      ? undefined
      : (window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext);
  if (!Ctor) return false;
  try {
    audioContext ??= new Ctor();
    const buffer = audioContext.createBuffer(1, 441, 44100);
    const source = audioContext.createBufferSource();
    source.buffer = buffer;
    source.connect(audioContext.destination);
    source.start(0);
    void audioContext.resume?.().catch(() => undefined);
    return true;
  } catch (error) {
    logger.debug('core', 'playFirstSound failed', error);
    return false;
  }
}

/**
 * Unlocks video playback from a user gesture (iOS Safari): when `display`
 * has no cached `<video>` and `src` is given, plays `src` in a muted
 * `<video>`, then leaves that element in `display` (as a cached video the
 * next play reuses). Resolves when done; rejects if playback is suspended.
 */
export function playFirstVideo(display: HTMLElement, isLocal?: boolean, src?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const suffix = isLocal ? LOCAL_CACHED_VIDEO : REMOTE_CACHED_VIDEO;
    if (!display || findCachedVideo(display, suffix) || !src) {
      resolve();
      return;
    }
    const video = createVideoElement(false);
    video.id = uuid() + suffix;
    video.src = src;
    const done = (): void => {
      display.appendChild(video);
      video.removeAttribute('src');
      resolve();
    };
    video.play().then(done, () => {
      video.onsuspend = () => reject(new Error('Video playback is suspended'));
      video.play().then(done, reject);
    });
  });
}

export { constants };
