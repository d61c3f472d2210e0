import type { Clock, TimerHandle } from './clock.js';

/** Thrown when timers keep re-arming at the same instant, which would otherwise hang a test. */
export class TimerStormError extends Error {
  readonly code = 'E_TIMER_STORM';
  constructor(limit: number, at: number) {
    super(
      `more than ${limit} timers fired in one run of the virtual clock (at ${at} ms): a timer loop?`,
    );
    this.name = 'TimerStormError';
  }
}

/** Thrown when a timer callback tries to move the clock (advance, runUntilIdle, fireNext). */
export class ReentrantAdvanceError extends Error {
  readonly code = 'E_REENTRANT_ADVANCE';
  constructor() {
    super('the virtual clock cannot be advanced from inside one of its own timer callbacks');
    this.name = 'ReentrantAdvanceError';
  }
}

export interface VirtualClockOptions {
  /** Starting time in ms (default 0). */
  start?: number;
  /** Most timers one advance/runUntilIdle may fire before throwing TimerStormError. */
  maxTimersPerRun?: number;
}

/** One pending timer. `seq` orders timers due at the same instant by creation (FIFO). */
class VirtualTimer implements TimerHandle {
  cancelled = false;
  fired = false;
  constructor(
    readonly due: number,
    readonly seq: number,
    readonly callback: () => void,
    private readonly owner: VirtualClock,
  ) {}
  cancel(): void {
    if (this.cancelled || this.fired) return;
    this.cancelled = true;
    this.owner.onCancel();
  }
}

function earlier(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/**
 * A Clock whose time moves only when the test says so. Timers fire in (due time, creation order)
 * order, including timers set by callbacks while advancing, so a run is fully deterministic.
 * Pending timers live in a binary min-heap; cancelled ones are skipped when they reach the top.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap: VirtualTimer[] = [];
  private live = 0;
  private firing = false;
  private readonly maxTimersPerRun: number;

  constructor(options: VirtualClockOptions = {}) {
    this.current = options.start ?? 0;
    this.maxTimersPerRun = options.maxTimersPerRun ?? 1_000_000;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, callback: () => void): TimerHandle {
    if (Number.isNaN(delayMs)) throw new RangeError('timer delay is NaN');
    // Like setTimeout, a negative delay means "as soon as possible", never in the past.
    const due = this.current + Math.max(0, delayMs);
    const timer = new VirtualTimer(due, this.seq++, callback, this);
    this.push(timer);
    this.live++;
    return timer;
  }

  /** Number of timers still waiting to fire. */
  pendingTimers(): number {
    return this.live;
  }

  /** Due time of the earliest pending timer, or undefined when there is none. */
  nextTimerAt(): number | undefined {
    this.dropCancelledTop();
    return this.heap.length > 0 ? this.heap[0].due : undefined;
  }

  /**
   * Moves time forward by `ms`, firing every timer due up to and including the new time in
   * order; `now()` inside a callback is that timer's due time. Returns the number fired.
   */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`cannot advance a clock by ${ms} ms`);
    const target = this.current + ms;
    const fired = this.fireUntil(target);
    this.current = target;
    return fired;
  }

  /** Moves time to the next timer's due time and fires every timer due then. Returns false if idle. */
  advanceToNextTimer(): boolean {
    const next = this.nextTimerAt();
    if (next === undefined) return false;
    this.advance(next - this.current);
    return true;
  }

  /**
   * Fires exactly one timer, the earliest (moving time to its due time): the single-step tool for
   * tests that follow a chain of 0 ms timers hop by hop. Returns false when idle.
   */
  fireNext(): boolean {
    if (this.firing) throw new ReentrantAdvanceError();
    this.dropCancelledTop();
    if (this.heap.length === 0) return false;
    this.enter();
    try {
      const timer = this.pop();
      this.current = timer.due;
      timer.fired = true;
      this.live--;
      timer.callback();
    } finally {
      this.firing = false;
    }
    return true;
  }

  /**
   * Fires timers (jumping time forward) until none are pending, or until time would pass
   * `limitMs` from now when given. Returns the number fired.
   */
  runUntilIdle(limitMs = Infinity): number {
    const target = this.current + limitMs;
    const fired = this.fireUntil(target);
    if (Number.isFinite(target)) this.current = target;
    return fired;
  }

  /** Called by a timer when cancelled, to keep the live count right. */
  onCancel(): void {
    this.live--;
  }

  private fireUntil(target: number): number {
    this.enter();
    try {
      return this.fireLoop(target);
    } finally {
      this.firing = false;
    }
  }

  /** Moving time from inside a timer callback would fire timers out of order: refuse it. */
  private enter(): void {
    if (this.firing) throw new ReentrantAdvanceError();
    this.firing = true;
  }

  private fireLoop(target: number): number {
    let fired = 0;
    while (true) {
      this.dropCancelledTop();
      if (this.heap.length === 0 || this.heap[0].due > target) return fired;
      const timer = this.pop();
      this.current = timer.due;
      timer.fired = true;
      this.live--;
      if (++fired > this.maxTimersPerRun)
        throw new TimerStormError(this.maxTimersPerRun, this.current);
      timer.callback();
    }
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
  }

  private push(timer: VirtualTimer): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(timer, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = timer;
  }

  private pop(): VirtualTimer {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop() as VirtualTimer;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      while (true) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && earlier(heap[right], heap[left]) ? right : left;
        if (!earlier(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }
}
