import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from './clock.js';

export interface RealClockOptions {
  /**
   * When true, pending timers do not keep the process alive (Node's `unref`), so a stack with
   * only housekeeping timers left (ARP ageing, reassembly timeouts) lets the process exit.
   */
  unrefTimers?: boolean;
}

class RealTimer implements TimerHandle {
  constructor(private readonly handle: NodeJS.Timeout) {}
  cancel(): void {
    clearTimeout(this.handle);
  }
}

/** Wall time from the monotonic `performance.now()`, timers from `setTimeout`. */
export class RealClock implements Clock {
  private readonly unrefTimers: boolean;

  constructor(options: RealClockOptions = {}) {
    this.unrefTimers = options.unrefTimers ?? false;
  }

  now(): number {
    return performance.now();
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    if (Number.isNaN(delayMs)) throw new RangeError('timer delay is NaN');
    const handle = setTimeout(callback, Math.max(0, delayMs));
    if (this.unrefTimers) handle.unref();
    return new RealTimer(handle);
  }
}
