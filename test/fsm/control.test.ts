/**
 * The RTO estimator and the congestion controllers at the edges of their RFC rules: the
 * variance term when a sample falls below SRTT, the clock-granularity floor, the bounds, the
 * backoff count; slow start's byte limit, congestion avoidance's byte counting carried across
 * windows, the 2*SMSS floors, NewReno's deflation, CUBIC's decrease, fast convergence and its
 * Reno-friendly region.
 */
import { describe, expect, it } from 'vitest';
import { Cubic, NewReno, initialWindow, makeCongestionControl } from '../../src/fsm/congestion.js';
import { RtoEstimator } from '../../src/fsm/rto.js';

describe('RTO estimator (RFC 6298 §2)', () => {
  it('RTTVAR takes |SRTT - R| when the sample is below SRTT', () => {
    const r = new RtoEstimator();
    r.sample(100);
    r.sample(20);
    expect(r.rttvar).toBe(0.75 * 50 + 0.25 * 80);
    expect(r.srtt).toBe(0.875 * 100 + 0.125 * 20);
    expect(r.rto).toBe(90 + 4 * 57.5);
  });
  it('first sample sets SRTT = R and RTTVAR = R/2, so RTO = 3R', () => {
    const r = new RtoEstimator({ minRto: 0, maxRto: 60_000, initialRto: 1000, granularity: 1 });
    expect(r.hasSample).toBe(false);
    r.sample(400);
    expect(r.hasSample).toBe(true);
    expect([r.srtt, r.rttvar, r.rto]).toEqual([400, 200, 1200]);
  });
  it('RTO is at least SRTT + G when the variance vanishes (clock granularity, §2.2)', () => {
    const r = new RtoEstimator({ minRto: 0, maxRto: 60_000, initialRto: 1000, granularity: 50 });
    for (let i = 0; i < 200; i++) r.sample(100);
    expect(r.rto).toBeCloseTo(150, 6);
  });
  it('a negative measurement (a clock stepped back) counts as zero', () => {
    const r = new RtoEstimator({ minRto: 0, maxRto: 60_000, initialRto: 1000, granularity: 1 });
    r.sample(-40);
    expect([r.srtt, r.rttvar, r.rto]).toEqual([0, 0, 1]);
  });
  it('clamps a huge estimate to the ceiling and the initial RTO backs off from 1 s', () => {
    const r = new RtoEstimator();
    r.backOff();
    expect(r.rto).toBe(2000);
    r.resetBackoff();
    r.sample(100_000);
    expect(r.rto).toBe(60_000);
    r.backOff();
    expect(r.rto).toBe(60_000);
  });
  it('stops counting backoffs once doubling the floor has reached the ceiling (§5.5)', () => {
    const r = new RtoEstimator();
    for (let i = 0; i < 100; i++) r.backOff();
    // 200 ms doubled 9 times passes 60 s: more doublings could not change the timeout.
    expect(r.backoff).toBe(Math.ceil(Math.log2(60_000 / 200)));
    expect(r.rto).toBe(60_000);
    // A floor that doubles exactly onto the ceiling: 250 ms * 2^8 = 64 s, the last doubling.
    const exact = new RtoEstimator({
      minRto: 250,
      maxRto: 64_000,
      initialRto: 250,
      granularity: 1,
    });
    for (let i = 0; i < 20; i++) exact.backOff();
    expect([exact.backoff, exact.rto]).toEqual([8, 64_000]);
  });
});

describe('congestion control (RFC 5681, RFC 3465, RFC 6928)', () => {
  it('IW is 14600 bytes between 1460 and 7300 byte segments', () => {
    expect(initialWindow(2000)).toBe(14_600);
    expect(initialWindow(1461)).toBe(14_600);
  });
  it('slow start grows by at most L segments per ACK, L chosen per connection', () => {
    const l3 = new NewReno(1000, 3);
    l3.onAck(5000, 1000);
    expect(l3.cwnd).toBe(13_000);
    l3.onAck(500, 1000);
    expect(l3.cwnd).toBe(13_500);
    const unlimited = makeCongestionControl('newreno', 1000, Infinity);
    expect(unlimited.name).toBe('newreno');
    unlimited.ssthresh = 100_000;
    unlimited.onAck(25_000, 1000, 0, 0);
    expect(unlimited.cwnd).toBe(35_000);
    expect(makeCongestionControl('cubic', 1000).name).toBe('cubic');
    expect(makeCongestionControl('newreno', 1000).name).toBe('newreno');
  });
  it('congestion avoidance adds one SMSS per cwnd bytes acked, carrying the remainder', () => {
    const cc = new NewReno(1000);
    cc.ssthresh = 10_000;
    cc.cwnd = 10_000;
    for (let i = 0; i < 3; i++) cc.onAck(4000, 1000); // 12000 acked
    expect(cc.cwnd).toBe(11_000);
    cc.onAck(8000, 1000); // 2000 carried + 8000 < 11000
    expect(cc.cwnd).toBe(11_000);
    cc.onAck(1000, 1000); // 11000
    expect(cc.cwnd).toBe(12_000);
  });
  it('a loss restarts the byte count, and ssthresh never falls below 2 * SMSS', () => {
    const cc = new NewReno(1000);
    cc.ssthresh = 10_000;
    cc.cwnd = 10_000;
    cc.onAck(9000, 1000);
    cc.onCongestion(3000, 1000);
    expect(cc.ssthresh).toBe(2000);
    cc.onRecoveryExit(30_000, 1000);
    expect(cc.cwnd).toBe(2000);
    cc.onAck(1500, 1000); // the 9000 bytes before the loss do not count
    expect(cc.cwnd).toBe(2000);
    cc.onAck(500, 1000);
    expect(cc.cwnd).toBe(3000);
    cc.onRto(1000, 1000);
    expect([cc.cwnd, cc.ssthresh]).toEqual([1000, 2000]);
  });
  it('NewReno leaves recovery at min(ssthresh, FlightSize + SMSS) (RFC 6582 §3.2)', () => {
    const cc = new NewReno(1000);
    cc.onCongestion(40_000, 1000);
    expect(cc.ssthresh).toBe(20_000);
    cc.onRecoveryExit(3000, 1000);
    expect(cc.cwnd).toBe(4000);
    cc.onRecoveryExit(0, 1000);
    expect(cc.cwnd).toBe(1000);
  });
  it('an RTO counts from an empty byte count in congestion avoidance', () => {
    const cc = new NewReno(1000);
    cc.ssthresh = 4000;
    cc.cwnd = 4000;
    cc.onAck(3500, 1000);
    cc.onRto(8000, 1000);
    cc.cwnd = 4000;
    cc.onAck(3500, 1000);
    expect(cc.cwnd).toBe(4000);
    cc.onAck(500, 1000);
    expect(cc.cwnd).toBe(5000);
  });
});

describe('CUBIC (RFC 9438)', () => {
  it('multiplicative decrease uses min(cwnd, FlightSize) and keeps 2 * SMSS', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 100_000;
    cc.onCongestion(50_000, 1000);
    expect(cc.ssthresh).toBe(35_000);
    expect(cc.wMax).toBe(100_000);
    const small = new Cubic(1000);
    small.cwnd = 2000;
    small.onCongestion(2000, 1000);
    expect(small.ssthresh).toBe(2000);
  });
  it('fast convergence lowers W_max to cwnd * (1 + beta) / 2 when losses come lower (§4.7)', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 100_000;
    cc.onCongestion(100_000, 1000);
    cc.cwnd = 80_000;
    cc.onCongestion(80_000, 1000);
    expect(cc.wMax).toBeCloseTo(68_000, 6);
    cc.cwnd = 90_000;
    cc.onCongestion(90_000, 1000);
    expect(cc.wMax).toBe(90_000);
  });
  it('an RTO sets cwnd to one segment and ssthresh from the decrease', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 50_000;
    cc.onRto(50_000, 1000);
    expect([cc.cwnd, cc.ssthresh, cc.wMax]).toEqual([1000, 35_000, 50_000]);
  });

  /** Acks one window per RTT for `rtts` rounds, `rtt` ms apart; the window after each round. */
  function rounds(cc: Cubic, rtts: number, rtt: number, t0 = 0): number[] {
    const out: number[] = [];
    let t = t0;
    for (let i = 0; i < rtts; i++) {
      t += rtt;
      cc.onAck(cc.cwnd, 1000, t, rtt);
      out.push(cc.cwnd);
    }
    return out;
  }

  it('on a short RTT grows like Reno would, by alpha = 3(1-beta)/(1+beta) SMSS per RTT (§4.3)', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 100_000;
    cc.onCongestion(100_000, 1000);
    cc.onRecoveryExit(0, 1000);
    expect(cc.cwnd).toBe(70_000);
    const trace = rounds(cc, 100, 10);
    const alpha = (3 * (1 - 0.7)) / (1 + 0.7);
    // One ACK per window: W_est grows alpha * SMSS per round (a little less per byte as cwnd grows).
    const est = 70_000 + 100 * alpha * 1000;
    expect(trace.at(-1)!).toBeGreaterThan(est * 0.93);
    expect(trace.at(-1)!).toBeLessThanOrEqual(est);
    // CUBIC's own curve one second after the loss is far lower: 100000 - 400 * (4.22 - 1)^3.
    expect(trace.at(-1)!).toBeGreaterThan(100_000 - 400 * (Math.cbrt(75) - 1.01) ** 3 + 20_000);
  });
  it('with no W_max above it, starts a convex curve at cwnd (K = 0) and grows at most 1.5x per RTT', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 20_000;
    cc.ssthresh = 20_000; // left slow start without a loss: W_max is 0
    const trace = rounds(cc, 12, 250);
    let prev = 20_000;
    for (const w of trace) {
      expect(w).toBeGreaterThanOrEqual(prev);
      expect(w).toBeLessThanOrEqual(1.5 * prev);
      prev = w;
    }
    // W_cubic(t) = C (t - 0)^3 SMSS + 20000, one RTT ahead: at 3 s target 0.4 * 3.25^3 * 1000.
    const at3s = trace[11];
    expect(at3s).toBeGreaterThan(20_000 + 0.4 * 3 ** 3 * 1000 * 0.8);
    expect(at3s).toBeLessThan(20_000 + 0.4 * 3.25 ** 3 * 1000 * 1.05);
  });
  it('regrows to W_max around K = cbrt(W_max (1 - beta) / C) after the loss on a long RTT', () => {
    const cc = new Cubic(1000);
    cc.cwnd = 100_000;
    cc.onCongestion(100_000, 1000);
    cc.onRecoveryExit(0, 1000);
    const trace = rounds(cc, 20, 500);
    const k = Math.cbrt((100 * 0.3) / 0.4);
    // Concave: below W_max before K, each round's growth shrinking toward it.
    const beforeK = trace.slice(0, Math.floor(k / 0.5) - 1);
    for (const w of beforeK) expect(w).toBeLessThan(100_000);
    for (let i = 2; i < beforeK.length; i++)
      expect(beforeK[i] - beforeK[i - 1]).toBeLessThanOrEqual(beforeK[i - 1] - beforeK[i - 2]);
    expect(trace.at(-1)!).toBeGreaterThan(100_000);
  });
});
