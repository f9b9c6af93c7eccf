// Plays a cover while it is made: its pieces (16-bit PCM from GET /api/jobs/{id}/audio) are
// appended as they arrive and scheduled back to back on one Web Audio clock, so they join
// without a gap; play, pause and seek work within the part that is ready.
//
// No imports: the browser test loads this file as it is (web/e2e/progressive_player.mjs) and
// renders it through an OfflineAudioContext to check that the pieces join sample for sample.

export const HEADER_BYTES = 44; // the WAV header the server puts before the PCM
export const FRAME_BYTES = 4; // s16le stereo
const LEAD_S = 0.05; // schedule this far ahead of "now"

/** The Range header for frames [from, to) of the preview. */
export function byteRange(from, to) {
  return `bytes=${HEADER_BYTES + from * FRAME_BYTES}-${HEADER_BYTES + to * FRAME_BYTES - 1}`;
}

/** Interleaved s16le stereo -> [left, right] Float32Arrays (an odd trailing byte is ignored). */
export function pcmToChannels(arrayBuffer) {
  const frames = Math.floor(arrayBuffer.byteLength / FRAME_BYTES);
  const pcm = new Int16Array(arrayBuffer, 0, frames * 2);
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    left[i] = pcm[2 * i] / 32768;
    right[i] = pcm[2 * i + 1] / 32768;
  }
  return [left, right];
}

export class ProgressivePlayer {
  /** `ctx`: an AudioContext (or OfflineAudioContext) at the preview's rate. */
  constructor(ctx, rate) {
    this.ctx = ctx;
    this.rate = rate;
    this.pieces = []; // {start (frames), buffer}
    this.frames = 0; // ready
    this.sources = [];
    this.playing = false;
    this.t0 = 0; // context time at which song time 0 would play
    this.pausedAt = 0; // seconds
    this.listeners = new Set();
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  _changed() {
    for (const fn of this.listeners) fn(this);
  }

  get readySeconds() {
    return this.frames / this.rate;
  }

  /** Seconds into the song (stays at the ready end while the next piece is awaited). */
  get position() {
    if (!this.playing) return this.pausedAt;
    return Math.min(Math.max(this.ctx.currentTime - this.t0, 0), this.readySeconds);
  }

  /** Whether playback has caught up with the end of the ready part. */
  get waiting() {
    return this.playing && this.ctx.currentTime - this.t0 >= this.readySeconds;
  }

  /** The next piece: [left, right] Float32Arrays continuing where the last one ended. */
  append(channels) {
    const n = channels[0].length;
    if (!n) return;
    const buffer = this.ctx.createBuffer(2, n, this.rate);
    buffer.copyToChannel(channels[0], 0);
    buffer.copyToChannel(channels[1], 1);
    const piece = { start: this.frames, buffer };
    const starved = this.waiting;
    this.pieces.push(piece);
    this.frames += n;
    if (this.playing) {
      // Playback ran out before this piece came: it resumes now, from the piece's start.
      if (starved) this.t0 = this.ctx.currentTime + LEAD_S - piece.start / this.rate;
      this._schedule(piece, piece.start / this.rate);
    }
    this._changed();
  }

  play(from = this.pausedAt, at = null) {
    this._stopSources();
    const start = Math.min(Math.max(from, 0), this.readySeconds);
    this.t0 = (at ?? this.ctx.currentTime + LEAD_S) - start;
    this.playing = true;
    for (const piece of this.pieces) this._schedule(piece, start);
    this._changed();
  }

  pause() {
    this.pausedAt = this.position;
    this.playing = false;
    this._stopSources();
    this._changed();
  }

  seek(seconds) {
    const to = Math.min(Math.max(seconds, 0), this.readySeconds);
    if (this.playing) this.play(to);
    else {
      this.pausedAt = to;
      this._changed();
    }
  }

  close() {
    this._stopSources();
    this.playing = false;
    this.listeners.clear();
  }

  // Plays `piece` from song time `from` on (nothing when it ends before `from`).
  _schedule(piece, from) {
    const startS = piece.start / this.rate;
    const endS = startS + piece.buffer.length / this.rate;
    if (endS <= from) return;
    const offset = Math.max(from - startS, 0);
    const source = this.ctx.createBufferSource();
    source.buffer = piece.buffer;
    source.connect(this.ctx.destination);
    source.start(this.t0 + startS + offset, offset);
    this.sources.push(source);
    source.onended = () => {
      this.sources = this.sources.filter((s) => s !== source);
    };
  }

  _stopSources() {
    for (const s of this.sources) {
      try {
        s.stop();
      } catch {
        // not started yet or already stopped
      }
      s.disconnect();
    }
    this.sources = [];
  }
}
