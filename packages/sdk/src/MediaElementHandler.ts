import type { Logger } from './Logger';

/** Suffix of a released SDK `<video>` left in its display for reuse (Flashphoner's name). */
export const REMOTE_CACHED_VIDEO = '-REMOTE_CACHED_VIDEO';
/** Suffix of a local cached `<video>` (made by `playFirstVideo(display, true)`). */
export const LOCAL_CACHED_VIDEO = '-LOCAL_CACHED_VIDEO';

/** Options of {@link MediaElementHandler}. */
export interface MediaElementOptions {
  /** Stream id: the id of the created `<video>`. */
  id: string;
  display?: HTMLElement | null | undefined;
  remoteVideo?: HTMLVideoElement | null | undefined;
  unmutePlayOnStart: boolean;
  useControls: boolean;
  audioOutputId?: string | undefined;
  logger: Logger;
}

const LOG = 'video';
const GESTURES = ['pointerdown', 'click', 'touchend', 'keydown'] as const;

/** Creates a `<video>` ready for autoplay (muted, inline on iOS). */
export function createVideoElement(useControls: boolean): HTMLVideoElement {
  const video = document.createElement('video');
  video.muted = true;
  video.setAttribute('playsinline', '');
  video.setAttribute('webkit-playsinline', '');
  if (useControls) video.setAttribute('controls', 'controls');
  return video;
}

/** The `<video>` child of `display` the SDK may reuse: a cached one, else none. */
export function findCachedVideo(display: HTMLElement, suffix: string): HTMLVideoElement | undefined {
  for (const child of Array.from(display.children)) {
    if (child.tagName.toUpperCase() === 'VIDEO' && child.id.endsWith(suffix)) {
      return child as HTMLVideoElement;
    }
  }
  return undefined;
}

/**
 * Owns the `<video>` a stream plays in, and hides the browser quirks:
 * one MediaStream for all received tracks, autoplay policy (play unmuted if
 * allowed, else muted and unmute on the next user gesture), output device,
 * volume, full screen.
 */
export class MediaElementHandler {
  /** The element media plays in. */
  readonly video: HTMLVideoElement;
  private readonly ownsElement: boolean;
  private mediaStream: MediaStream | undefined;
  private userMuted = false;
  private autoMuted = false;
  private playRequested = false;
  private released = false;
  private readonly onGesture = (): void => this.unmuteAfterGesture();

  /**
   * Finds or creates the `<video>`: `remoteVideo` if given; else a cached SDK
   * video in `display`, or a new one appended to it; its id becomes the
   * stream id. Without either, a detached `<video>` still plays audio.
   */
  constructor(private readonly options: MediaElementOptions) {
    if (options.remoteVideo) {
      this.video = options.remoteVideo;
      this.ownsElement = false;
    } else {
      const cached = options.display ? findCachedVideo(options.display, REMOTE_CACHED_VIDEO) : undefined;
      this.video = cached ?? createVideoElement(options.useControls);
      this.video.muted = true;
      if (options.useControls) this.video.setAttribute('controls', 'controls');
      if (!cached && options.display) options.display.appendChild(this.video);
      this.video.id = options.id;
      this.ownsElement = true;
    }
    if (options.audioOutputId) void this.setAudioOutputId(options.audioOutputId);
  }

  /** Adds a received track to the element's MediaStream and starts playback. */
  addTrack(track: MediaStreamTrack): void {
    if (this.released) return;
    if (!this.mediaStream) {
      this.mediaStream = new MediaStream();
    }
    if (!this.mediaStream.getTracks().includes(track)) this.mediaStream.addTrack(track);
    if (this.video.srcObject !== this.mediaStream) this.video.srcObject = this.mediaStream;
    if (!this.playRequested) {
      this.playRequested = true;
      if (this.video.readyState >= 1) {
        this.startPlayback();
      } else {
        this.video.addEventListener('loadedmetadata', () => this.startPlayback(), { once: true });
      }
    }
  }

  /** True if the element has an audio track. */
  hasAudio(): boolean {
    return (this.mediaStream?.getAudioTracks().length ?? 0) > 0;
  }

  private startPlayback(): void {
    if (this.released) return;
    const video = this.video;
    const wantSound = this.options.unmutePlayOnStart && !this.userMuted;
    video.muted = !wantSound;
    video.play().then(
      () => this.options.logger.debug(LOG, `playing ${video.muted ? 'muted' : 'with sound'}`),
      (error: unknown) => {
        if (this.released) return;
        const name = (error as { name?: string } | null)?.name;
        if (name === 'NotAllowedError' && !video.muted) {
          this.options.logger.info(LOG, 'autoplay with sound refused; playing muted until a user gesture');
          video.muted = true;
          this.autoMuted = true;
          this.listenForGesture(true);
          video.play().catch((e: unknown) => this.options.logger.warn(LOG, 'muted play() failed', e));
        } else if (name !== 'AbortError') {
          this.options.logger.warn(LOG, 'play() failed', error);
        }
      },
    );
  }

  private listenForGesture(on: boolean): void {
    if (typeof document === 'undefined') return;
    for (const type of GESTURES) {
      if (on) document.addEventListener(type, this.onGesture, { capture: true });
      else document.removeEventListener(type, this.onGesture, { capture: true });
    }
  }

  private unmuteAfterGesture(): void {
    this.listenForGesture(false);
    if (this.released || !this.autoMuted) return;
    this.autoMuted = false;
    if (this.userMuted) return;
    this.video.muted = false;
    if (this.video.paused) {
      this.video.play().catch(() => {
        this.video.muted = true;
        void this.video.play().catch(() => undefined);
      });
    }
  }

  /** Sets the volume, 0..100; ignored without audio. */
  setVolume(volume: number): void {
    if (!this.hasAudio()) return;
    this.video.volume = Math.min(100, Math.max(0, volume)) / 100;
  }

  /** Volume 0..100, or -1 without audio. */
  getVolume(): number {
    return this.hasAudio() ? Math.round(this.video.volume * 100) : -1;
  }

  /** Mutes the element (and stops any pending automatic unmute). */
  mute(): void {
    this.userMuted = true;
    if (this.hasAudio()) this.video.muted = true;
  }

  /** Unmutes the element. */
  unmute(): void {
    this.userMuted = false;
    this.autoMuted = false;
    if (this.hasAudio()) this.video.muted = false;
  }

  /** True if muted, or if there is no audio (Flashphoner rule). */
  isMuted(): boolean {
    return this.hasAudio() ? this.video.muted : true;
  }

  /** Routes audio to an output device (`setSinkId`), where supported. */
  setAudioOutputId(id: string): Promise<void> {
    const video = this.video as HTMLVideoElement & { setSinkId?: (id: string) => Promise<void> };
    if (typeof video.setSinkId !== 'function') {
      return Promise.reject(new Error('setSinkId is not supported by this browser'));
    }
    return video.setSinkId(id);
  }

  /** Toggles full screen for the element (with the WebKit fallbacks). */
  fullScreen(): void {
    type Webkit = {
      webkitFullscreenElement?: Element | null;
      webkitExitFullscreen?: () => void;
      webkitRequestFullscreen?: () => void;
      webkitEnterFullscreen?: () => void;
    };
    const doc = document as Document & Webkit;
    const video = this.video as HTMLVideoElement & Webkit;
    if (doc.fullscreenElement || doc.webkitFullscreenElement) {
      if (doc.exitFullscreen) void doc.exitFullscreen().catch(() => undefined);
      else doc.webkitExitFullscreen?.();
      return;
    }
    if (video.requestFullscreen) {
      void video.requestFullscreen().catch((e: unknown) => this.options.logger.debug(LOG, e));
    } else if (video.webkitRequestFullscreen) {
      video.webkitRequestFullscreen();
    } else if (video.webkitEnterFullscreen) {
      // iOS: the only way; it pauses on exit, so resume.
      video.webkitEnterFullscreen();
      video.addEventListener('webkitendfullscreen', () => void video.play().catch(() => undefined), { once: true });
    }
  }

  /** Decoded size of the picture, if known. */
  videoSize(): { width: number; height: number } | undefined {
    const { videoWidth, videoHeight } = this.video;
    return videoWidth || videoHeight ? { width: videoWidth, height: videoHeight } : undefined;
  }

  /**
   * Detaches the media: pauses, stops the received tracks, clears `srcObject`.
   * An SDK-made element stays in its display with id `<id>-REMOTE_CACHED_VIDEO`
   * and is reused by the next play into that display. Idempotent.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.listenForGesture(false);
    const video = this.video;
    if (video.srcObject) {
      video.pause();
      (video.srcObject as MediaStream).getTracks().forEach((t) => t.stop());
      video.srcObject = null;
    }
    if (this.ownsElement && !video.id.endsWith(REMOTE_CACHED_VIDEO)) {
      video.id = video.id + REMOTE_CACHED_VIDEO;
    }
  }
}
