/**
 * `@sipcast/sdk`: play sipcast live streams in the browser over WebRTC, with
 * the Flashphoner Web SDK API (`Flashphoner.init`, `createSession`,
 * `session.createStream({name, display}).play()`).
 *
 * @packageDocumentation
 */
import {
  createSession,
  getLogger,
  getMediaProviders,
  getSession,
  getSessions,
  init,
  playFirstSound,
  playFirstVideo,
} from './api';
import { constants } from './constants';

export {
  createSession,
  getLogger,
  getMediaProviders,
  getSession,
  getSessions,
  init,
  playFirstSound,
  playFirstVideo,
};
export * from './constants';
export type * from './types';
export { Session } from './Session';
export { Stream } from './Stream';
export { Logger } from './Logger';
export type { LogSeverity, LoggerOptions, CustomLogger } from './Logger';
export { EnhancedEventEmitter } from './EnhancedEventEmitter';
export type { EventMap, Listener } from './EnhancedEventEmitter';
export { InvalidStateError, MissingOptionError, NotInitializedError, RequestError } from './errors';

/** The Flashphoner-shaped API object: the default export, and the global `Flashphoner` of the UMD build. */
const Flashphoner = Object.freeze({
  init,
  createSession,
  getSessions,
  getSession,
  getMediaProviders,
  playFirstSound,
  playFirstVideo,
  getLogger,
  constants,
});

/** Type of the default export / UMD global. */
export type FlashphonerApi = typeof Flashphoner;

export default Flashphoner;
