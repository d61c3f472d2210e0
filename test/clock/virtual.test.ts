import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ReentrantAdvanceError,
  TimerStormError,
  VirtualClock,
} from '../../src/runtime/clock/virtual.js';
import { RealClock } from '../../src/runtime/clock/real.js';

describe('VirtualClock', () => {
  it('starts at the given time and moves only on advance', () => {
    const clock = new VirtualClock({ start: 100 });
    expect(clock.now()).toBe(100);
    clock.advance(5.5);
    expect(clock.now()).toBe(105.5);
  });

  it('fires timers in due order, ties in creation order, with now() at the due time', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimer(30, () => log.push(`c@${clock.now()}`));
    clock.setTimer(10, () => log.push(`a@${clock.now()}`));
    clock.setTimer(10, () => log.push(`b@${clock.now()}`));
    clock.setTimer(31, () => log.push('late'));
    expect(clock.advance(30)).toBe(3);
    expect(log).toEqual(['a@10', 'b@10', 'c@30']);
    expect(clock.now()).toBe(30);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('fires timers set by callbacks within the same advance when they fall inside it', () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    clock.setTimer(10, () => {
      log.push(clock.now());
      clock.setTimer(0, () => log.push(clock.now()));
      clock.setTimer(15, () => log.push(clock.now()));
      clock.setTimer(100, () => log.push(clock.now()));
    });
    clock.advance(50);
    expect(log).toEqual([10, 10, 25]);
    clock.advance(59);
    expect(log).toEqual([10, 10, 25]);
    clock.advance(1);
    expect(log).toEqual([10, 10, 25, 110]);
  });

  it('does not fire cancelled timers and cancel is idempotent', () => {
    const clock = new VirtualClock();
    let fired = 0;
    const t = clock.setTimer(5, () => fired++);
    const u = clock.setTimer(5, () => fired++);
    t.cancel();
    t.cancel();
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(10);
    u.cancel();
    expect(fired).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('advanceToNextTimer jumps to the earliest timer and reports idleness', () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    clock.setTimer(40, () => log.push(40));
    clock.setTimer(7, () => log.push(7));
    expect(clock.nextTimerAt()).toBe(7);
    expect(clock.advanceToNextTimer()).toBe(true);
    expect(clock.now()).toBe(7);
    expect(log).toEqual([7]);
    expect(clock.advanceToNextTimer()).toBe(true);
    expect(clock.now()).toBe(40);
    expect(clock.advanceToNextTimer()).toBe(false);
  });

  it('fireNext fires exactly one timer, even when others are due at the same time', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    clock.setTimer(3, () => {
      log.push('a');
      clock.setTimer(0, () => log.push('c'));
    });
    clock.setTimer(3, () => log.push('b'));
    expect(clock.fireNext()).toBe(true);
    expect(log).toEqual(['a']);
    expect(clock.now()).toBe(3);
    expect(clock.fireNext()).toBe(true);
    expect(clock.fireNext()).toBe(true);
    expect(log).toEqual(['a', 'b', 'c']);
    expect(clock.fireNext()).toBe(false);
  });

  it('runUntilIdle drains chains of timers, bounded by an optional limit', () => {
    const clock = new VirtualClock();
    let count = 0;
    const tick = (): void => {
      if (++count < 10) clock.setTimer(1000, tick);
    };
    clock.setTimer(1000, tick);
    expect(clock.runUntilIdle(4500)).toBe(4);
    expect(clock.now()).toBe(4500);
    expect(clock.runUntilIdle()).toBe(6);
    expect(clock.now()).toBe(10_000);
  });

  it('throws a typed error on a zero-delay timer storm instead of hanging', () => {
    const clock = new VirtualClock({ maxTimersPerRun: 1000 });
    const again = (): void => {
      clock.setTimer(0, again);
    };
    clock.setTimer(0, again);
    expect(() => clock.advance(1)).toThrow(TimerStormError);
  });

  it('refuses to be advanced from inside its own timer callback, and stays usable', () => {
    const clock = new VirtualClock();
    let caught: unknown;
    clock.setTimer(1, () => {
      try {
        clock.advance(5);
      } catch (e) {
        caught = e;
      }
    });
    clock.setTimer(2, () => clock.fireNext());
    clock.advance(1);
    expect(caught).toBeInstanceOf(ReentrantAdvanceError);
    expect(() => clock.advance(1)).toThrow(ReentrantAdvanceError);
    let later = false;
    clock.setTimer(1, () => (later = true));
    clock.advance(1);
    expect(later).toBe(true);
    expect(clock.now()).toBe(3);
  });

  it('rejects NaN delays and negative advances; clamps negative delays to now', () => {
    const clock = new VirtualClock({ start: 5 });
    expect(() => clock.setTimer(NaN, () => {})).toThrow(RangeError);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    let at = -1;
    clock.setTimer(-10, () => (at = clock.now()));
    clock.advance(0);
    expect(at).toBe(5);
  });

  it('matches a sorted reference for random timer sets (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.boolean()), { maxLength: 60 }),
        (specs) => {
          const clock = new VirtualClock();
          const fired: number[] = [];
          const handles = specs.map(([delay], i) => clock.setTimer(delay, () => fired.push(i)));
          specs.forEach(([, cancel], i) => cancel && handles[i].cancel());
          clock.advance(50);
          const expected = specs
            .map(([delay, cancel], i) => ({ delay, cancel, i }))
            .filter((s) => !s.cancel)
            .sort((x, y) => x.delay - y.delay || x.i - y.i)
            .map((s) => s.i);
          expect(fired).toEqual(expected);
        },
      ),
    );
  });
});

describe('RealClock', () => {
  it('is monotonic and fires and cancels timers', async () => {
    const clock = new RealClock({ unrefTimers: true });
    const t0 = clock.now();
    let cancelledFired = false;
    clock.setTimer(1, () => (cancelledFired = true)).cancel();
    await new Promise<void>((resolve) => clock.setTimer(5, resolve));
    expect(clock.now()).toBeGreaterThanOrEqual(t0 + 4);
    expect(cancelledFired).toBe(false);
  });
});
