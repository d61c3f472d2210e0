import { describe, expect, it } from 'vitest';
import { DEFAULT_TCP_CONFIG, LINUX_TCP_PROFILE } from '../../../src/fsm/tcp.js';
import { makePair } from './helpers.js';

describe("the TCP layer's profile", () => {
  it("is the RFCs' by default, Linux's with profile 'linux', and explicit options win", () => {
    const rfc = makePair(1, {}, {});
    expect(rfc.tcpA.config).toMatchObject({ ...DEFAULT_TCP_CONFIG, mss: rfc.tcpA.config.mss });
    const linux = makePair(1, {}, { profile: 'linux', congestion: 'newreno' });
    expect(linux.tcpA.config).toMatchObject({ ...LINUX_TCP_PROFILE, congestion: 'newreno' });
    expect(linux.tcpA.config.rto.granularity).toBe(200);
    expect(linux.tcpA.config.prr).toBe(true);
    expect('profile' in linux.tcpA.config).toBe(false);
  });
});
