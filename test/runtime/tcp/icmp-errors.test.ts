import { describe, expect, it } from 'vitest';
import { icmp, icmpv6 } from '../../../src/generated/index.js';
import { icmpVerdict, icmpv6Verdict } from '../../../src/runtime/tcp/icmp-errors.js';

const T = icmp.IcmpType;
const U = icmp.IcmpUnreachableCode;
const T6 = icmpv6.Icmpv6Type;
const U6 = icmpv6.Icmpv6UnreachableCode;

describe("ICMP errors as Linux's TCP reads them", () => {
  it('maps IPv4 unreachables to their errno and hardness (icmp_err_convert)', () => {
    expect(icmpVerdict(T.DestinationUnreachable, U.Port)).toEqual({
      code: 'ECONNREFUSED',
      fatal: true,
    });
    expect(icmpVerdict(T.DestinationUnreachable, U.Protocol)).toEqual({
      code: 'ENOPROTOOPT',
      fatal: true,
    });
    expect(icmpVerdict(T.DestinationUnreachable, U.Net)).toEqual({
      code: 'ENETUNREACH',
      fatal: false,
    });
    expect(icmpVerdict(T.DestinationUnreachable, U.Host)).toEqual({
      code: 'EHOSTUNREACH',
      fatal: false,
    });
    expect(icmpVerdict(T.DestinationUnreachable, U.HostUnknown)).toEqual({
      code: 'EHOSTDOWN',
      fatal: true,
    });
    expect(icmpVerdict(T.DestinationUnreachable, U.CommunicationProhibited)).toEqual({
      code: 'EHOSTUNREACH',
      fatal: true,
    });
    expect(icmpVerdict(T.TimeExceeded, 0)).toEqual({ code: 'EHOSTUNREACH', fatal: false });
    expect(icmpVerdict(T.ParameterProblem, 0)).toEqual({ code: 'EPROTO', fatal: true });
  });

  it('leaves to path MTU discovery, or ignores, what is not a connection error', () => {
    expect(icmpVerdict(T.DestinationUnreachable, U.FragmentationNeeded)).toBeNull();
    expect(icmpVerdict(T.DestinationUnreachable, 16)).toBeNull();
    expect(icmpVerdict(T.SourceQuench, 0)).toBeNull();
    expect(icmpv6Verdict(T6.PacketTooBig, 0)).toBeNull();
  });

  it('maps ICMPv6 errors (icmpv6_err_convert)', () => {
    expect(icmpv6Verdict(T6.DestinationUnreachable, U6.Port)).toEqual({
      code: 'ECONNREFUSED',
      fatal: true,
    });
    expect(icmpv6Verdict(T6.DestinationUnreachable, U6.AdministrativelyProhibited)).toEqual({
      code: 'EACCES',
      fatal: true,
    });
    expect(icmpv6Verdict(T6.DestinationUnreachable, U6.NoRoute)).toEqual({
      code: 'ENETUNREACH',
      fatal: false,
    });
    expect(icmpv6Verdict(T6.DestinationUnreachable, U6.Address)).toEqual({
      code: 'EHOSTUNREACH',
      fatal: false,
    });
    expect(icmpv6Verdict(T6.TimeExceeded, 0)).toEqual({ code: 'EHOSTUNREACH', fatal: false });
    expect(icmpv6Verdict(T6.ParameterProblem, 1)).toEqual({ code: 'EPROTO', fatal: true });
  });
});
