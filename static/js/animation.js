/**
 * animation.js — the clock: plays a sequence of frames, one at a time, at a chosen speed.
 * It knows nothing about graphs or tables; `onFrame(index)` draws a frame.
 *
 *   const player = new Player({onFrame: (i) => ..., onChange: (player) => ..., interval: 900,
 *                              stride: (index, delta) => next index})  // default index + delta
 *   player.load(count, start = 0)   // a new sequence (stops playing)
 *   player.play(), pause(), toggle(), step(+1 | -1), seek(i), restart(), end()
 *   player.setSpeed(2)              // 2× faster
 *   player.index, player.count, player.playing, player.atEnd
 *
 * `onChange` runs after every change of index or of playing state (to update buttons).
 * `stride` says where a step (and each tick while playing) lands: the page steps by node,
 * by statement or by whole pass.
 * Reduced motion is the page's business (CSS drops transitions); frames are discrete anyway.
 */

export class Player {
  constructor({ onFrame = () => {}, onChange = () => {}, interval = 900,
    stride = (index, delta) => index + delta } = {}) {
    this.onFrame = onFrame;
    this.stride = stride;
    this.onChange = onChange;
    this.interval = interval;
    this.speed = 1;
    this.count = 0;
    this.index = 0;
    this.playing = false;
    this.timer = null;
  }

  get atEnd() { return this.index >= this.count - 1; }

  load(count, start = 0) {
    this.stopTimer();
    this.playing = false;
    this.count = count;
    this.index = -1;
    if (count > 0) this.seek(start);
    else this.onChange(this);
  }

  seek(i) {
    if (this.count === 0) return;
    const index = Math.max(0, Math.min(this.count - 1, i));
    if (index !== this.index) {
      this.index = index;
      this.onFrame(index);
    }
    this.onChange(this);
  }

  play() {
    if (this.count === 0) return;
    if (this.atEnd) this.seek(0);
    this.playing = true;
    this.schedule();
    this.onChange(this);
  }

  pause() {
    this.stopTimer();
    if (this.playing) {
      this.playing = false;
      this.onChange(this);
    }
  }

  toggle() { if (this.playing) this.pause(); else this.play(); }

  step(delta) {
    this.pause();
    this.seek(this.stride(this.index, delta));
  }

  restart() { this.seek(0); }

  end() {
    this.pause();
    this.seek(this.count - 1);
  }

  setSpeed(speed) {
    this.speed = speed > 0 ? speed : 1;
    if (this.playing) this.schedule();
  }

  schedule() {
    this.stopTimer();
    this.timer = setTimeout(() => this.tick(), this.interval / this.speed);
  }

  tick() {
    this.timer = null;
    if (!this.playing) return;
    if (this.atEnd) {
      this.pause();
      return;
    }
    this.seek(this.stride(this.index, 1));
    if (this.atEnd) this.pause();
    else this.schedule();
  }

  stopTimer() {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }
}
