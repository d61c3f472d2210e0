/** Ping RTT seen by the kernel's ping: median and p99 over one run of small echo requests. */
import { STACK_IP, type Lab } from './lab.js';

export interface PingResult {
  sent: number;
  received: number;
  medianUs: number;
  p99Us: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function measurePing(lab: Lab, count = 2000, size = 56, warmup = 20_000): PingResult {
  // Warm-up first: ARP resolution and V8 optimizing the path (a few thousand calls in, code
  // leaves the interpreter) are not what we measure, so a flood ping runs before the timed one.
  lab.client('ping', ['-n', '-q', '-f', '-c', String(warmup), '-W', '1', STACK_IP]);
  const out = lab.client('ping', [
    '-n',
    '-c',
    String(count),
    '-i',
    '0.002',
    '-W',
    '1',
    '-s',
    String(size),
    STACK_IP,
  ]);
  const rtts = [...out.matchAll(/time=([\d.]+) ms/g)]
    .map((m) => Number(m[1]) * 1000)
    .sort((a, b) => a - b);
  return {
    sent: count,
    received: rtts.length,
    medianUs: percentile(rtts, 50),
    p99Us: percentile(rtts, 99),
  };
}
