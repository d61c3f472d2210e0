/**
 * Time for the runtime. Protocol modules never call Date.now or setTimeout themselves; they get
 * `now` from a Clock and ask it for timers, so tests can swap in the VirtualClock and run
 * deterministically (and much faster than real time).
 */
export interface TimerHandle {
  /** Cancels the timer; harmless when it already fired or was cancelled. */
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (may be fractional). */
  now(): number;
  /** Calls `callback` once, `delayMs` from now. */
  setTimer(delayMs: number, callback: () => void): TimerHandle;
}
