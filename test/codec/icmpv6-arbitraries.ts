/**
 * fast-check arbitraries for ICMPv6/ND/MLD (specs/icmpv6.pkt) and DHCPv6 (specs/dhcpv6.pkt):
 * typed ND option and DHCPv6 option items (nested options included) and the encoded lists.
 */
import fc from 'fast-check';
import { formatIpv6 } from '../../src/codec/address.js';
import { dhcpv6, icmpv6 } from '../../src/generated/index.js';
import { bits, payload, u16, u32, u8 } from './arbitraries.js';

/** RFC 5952 text, the form decode gives. */
export const ipv6Text = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => formatIpv6(b, 0));
export const ipv6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 });
/** Bytes that, after `head` bytes of an element, fill whole 8-octet units (decode keeps them so). */
export const unitBytes = (head: number): fc.Arbitrary<Uint8Array> =>
  fc
    .integer({ min: 1, max: 4 })
    .chain((units) => fc.uint8Array({ minLength: 8 * units - head, maxLength: 8 * units - head }));

export const ndOption: fc.Arbitrary<icmpv6.NdOptionsItem> = fc.oneof(
  fc.record({ kind: fc.constant('SourceLinkLayerAddress' as const), address: unitBytes(2) }),
  fc.record({ kind: fc.constant('TargetLinkLayerAddress' as const), address: unitBytes(2) }),
  fc.record({
    kind: fc.constant('PrefixInformation' as const),
    prefixLength: u8,
    onLink: bits(1),
    autonomous: bits(1),
    routerAddress: bits(1),
    reserved1: bits(5),
    validLifetime: u32,
    preferredLifetime: u32,
    reserved2: u32,
    prefix: ipv6Text,
  }),
  fc.record({
    kind: fc.constant('RedirectedHeader' as const),
    reserved1: u16,
    reserved2: u32,
    packet: unitBytes(8),
  }),
  fc.record({ kind: fc.constant('Mtu' as const), reserved: u16, mtu: u32 }),
  fc.record({ kind: fc.constant('AdvertisementInterval' as const), reserved: u16, interval: u32 }),
  fc.record({
    kind: fc.constant('HomeAgentInformation' as const),
    reserved: u16,
    preference: u16,
    lifetime: u16,
  }),
  fc.record({
    kind: fc.constant('RecursiveDnsServer' as const),
    reserved: u16,
    lifetime: u32,
    servers: fc.array(ipv6Text, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('DnsSearchList' as const),
    reserved: u16,
    lifetime: u32,
    domains: unitBytes(8),
  }),
  // An unknown type, its length byte saying its size in units.
  fc.tuple(fc.constantFrom(9, 14, 200), fc.integer({ min: 1, max: 3 })).chain(([type, units]) =>
    fc.uint8Array({ minLength: 8 * units - 2, maxLength: 8 * units - 2 }).map((body) => ({
      kind: 'raw' as const,
      bytes: Uint8Array.of(type, units, ...body),
    })),
  ),
);

export const ndOptions = fc.array(ndOption, { maxLength: 5 }).map((list) => {
  const out = new Uint8Array(2048);
  const n = icmpv6.encodeNdOptions(list, out, 0);
  return { list, bytes: out.slice(0, n) };
});

export const leafOption: fc.Arbitrary<dhcpv6.Dhcpv6OptionsItem> = fc.oneof(
  fc.record({ kind: fc.constant('ClientId' as const), duidType: u16, duid: payload }),
  fc.record({ kind: fc.constant('ServerId' as const), duidType: u16, duid: payload }),
  fc.record({
    kind: fc.constant('OptionRequest' as const),
    codes: fc.array(u16, { maxLength: 6 }),
  }),
  fc.record({ kind: fc.constant('Preference' as const), value: u8 }),
  fc.record({ kind: fc.constant('ElapsedTime' as const), time: u16 }),
  fc.record({ kind: fc.constant('RelayMessage' as const), message: payload }),
  fc.record({ kind: fc.constant('Unicast' as const), address: ipv6Text }),
  fc.record({ kind: fc.constant('StatusCode' as const), status: u16, message: payload }),
  fc.constant({ kind: 'RapidCommit' as const }),
  fc.record({ kind: fc.constant('InterfaceId' as const), id: payload }),
  fc.record({ kind: fc.constant('ReconfigureMessage' as const), msgType: u8 }),
  fc.constant({ kind: 'ReconfigureAccept' as const }),
  fc.record({
    kind: fc.constant('DnsServers' as const),
    servers: fc.array(ipv6Text, { maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('DomainList' as const), domains: payload }),
  fc.record({ kind: fc.constant('MudUrl' as const), url: payload }),
  fc.tuple(fc.constantFrom(10, 11, 39, 999), payload).map(([code, body]) => ({
    kind: 'raw' as const,
    bytes: Uint8Array.of(code >> 8, code & 0xff, body.length >> 8, body.length & 0xff, ...body),
  })),
);

/** Options with identity associations holding options, up to three levels deep. */
export const dhcpv6Option: fc.Arbitrary<dhcpv6.Dhcpv6OptionsItem> = fc.letrec<{
  option: dhcpv6.Dhcpv6OptionsItem;
}>((tie) => ({
  option: fc.oneof(
    { depthSize: 'small', withCrossShrink: true, maxDepth: 3 },
    leafOption,
    fc.record({
      kind: fc.constant('IaNa' as const),
      iaid: u32,
      t1: u32,
      t2: u32,
      options: fc.array(tie('option'), { maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant('IaTa' as const),
      iaid: u32,
      options: fc.array(tie('option'), { maxLength: 3 }),
    }),
    fc.record({
      kind: fc.constant('IaAddr' as const),
      address: ipv6Text,
      preferredLifetime: u32,
      validLifetime: u32,
      options: fc.array(tie('option'), { maxLength: 2 }),
    }),
    fc.record({
      kind: fc.constant('IaPd' as const),
      iaid: u32,
      t1: u32,
      t2: u32,
      options: fc.array(tie('option'), { maxLength: 2 }),
    }),
    fc.record({
      kind: fc.constant('IaPrefix' as const),
      preferredLifetime: u32,
      validLifetime: u32,
      prefixLength: u8,
      prefix: ipv6Text,
      options: fc.array(tie('option'), { maxLength: 2 }),
    }),
  ),
})).option;

export const dhcpv6Options = fc.array(dhcpv6Option, { maxLength: 5 }).map((list) => {
  const out = new Uint8Array(16384);
  const n = dhcpv6.encodeDhcpv6Options(list, out, 0);
  return { list, bytes: out.slice(0, n) };
});

export type Encode = (
  f: object,
  out: Uint8Array,
  offset: number,
  payloadLength: number,
  src: Uint8Array,
  srcOffset: number,
  dst: Uint8Array,
  dstOffset: number,
) => number;
/** An ICMPv6 message of specs/icmpv6.pkt: its Fields and its encoder (IPv6 pseudo-header). */
export interface Icmpv6MessageCase {
  /** The message's name in the spec (its view is `${message}View`). */
  message: string;
  fields: fc.Arbitrary<Record<string, unknown>>;
  encode: Encode;
  /** The message ends in a payload the caller places (not an option list that takes the rest). */
  payload?: boolean;
}

const T = icmpv6.Icmpv6Type;
const head = (types: number[]): Record<string, fc.Arbitrary<number>> => ({
  type: fc.constantFrom(...types),
  code: u8,
});
const withOptions = <R extends Record<string, fc.Arbitrary<unknown>>>(
  r: R,
): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .tuple(fc.record(r), ndOptions)
    .map(([f, o]) => ({ ...(f as Record<string, unknown>), options: o.bytes }));

export const mldv2RecordFields = fc.record({
  recordType: u8,
  multicastAddress: ipv6Text,
  sources: fc.array(ipv6Text, { maxLength: 3 }),
  auxData: fc
    .integer({ min: 0, max: 3 })
    .chain((n) => fc.uint8Array({ minLength: 4 * n, maxLength: 4 * n })),
});

export const ICMPV6_MESSAGES: Record<string, Icmpv6MessageCase> = {
  echo: {
    message: 'Icmpv6Echo',
    payload: true,
    fields: fc.record({ ...head([T.EchoRequest, T.EchoReply]), identifier: u16, sequence: u16 }),
    encode: icmpv6.encodeIcmpv6Echo as Encode,
  },
  error: {
    message: 'Icmpv6Error',
    payload: true,
    fields: fc.record({ ...head([T.DestinationUnreachable, T.TimeExceeded]), unused: u32 }),
    encode: icmpv6.encodeIcmpv6Error as Encode,
  },
  packetTooBig: {
    message: 'Icmpv6PacketTooBig',
    payload: true,
    fields: fc.record({ ...head([T.PacketTooBig]), mtu: u32 }),
    encode: icmpv6.encodeIcmpv6PacketTooBig as Encode,
  },
  parameterProblem: {
    message: 'Icmpv6ParameterProblem',
    payload: true,
    fields: fc.record({ ...head([T.ParameterProblem]), pointer: u32 }),
    encode: icmpv6.encodeIcmpv6ParameterProblem as Encode,
  },
  routerSolicitation: {
    message: 'NdRouterSolicitation',
    fields: withOptions({ ...head([T.RouterSolicitation]), reserved: u32 }),
    encode: icmpv6.encodeNdRouterSolicitation as Encode,
  },
  routerAdvertisement: {
    message: 'NdRouterAdvertisement',
    fields: withOptions({
      ...head([T.RouterAdvertisement]),
      curHopLimit: u8,
      managed: bits(1),
      other: bits(1),
      homeAgent: bits(1),
      preference: bits(2),
      proxy: bits(1),
      reserved: bits(2),
      routerLifetime: u16,
      reachableTime: u32,
      retransTimer: u32,
    }),
    encode: icmpv6.encodeNdRouterAdvertisement as Encode,
  },
  neighborSolicitation: {
    message: 'NdNeighborSolicitation',
    fields: withOptions({ ...head([T.NeighborSolicitation]), reserved: u32, target: ipv6Text }),
    encode: icmpv6.encodeNdNeighborSolicitation as Encode,
  },
  neighborAdvertisement: {
    message: 'NdNeighborAdvertisement',
    fields: withOptions({
      ...head([T.NeighborAdvertisement]),
      router: bits(1),
      solicited: bits(1),
      override: bits(1),
      reserved: bits(29),
      target: ipv6Text,
    }),
    encode: icmpv6.encodeNdNeighborAdvertisement as Encode,
  },
  redirect: {
    message: 'NdRedirect',
    fields: withOptions({
      ...head([T.Redirect]),
      reserved: u32,
      target: ipv6Text,
      destination: ipv6Text,
    }),
    encode: icmpv6.encodeNdRedirect as Encode,
  },
  mld: {
    message: 'Mld',
    payload: true,
    fields: fc.record({
      ...head([T.MulticastListenerQuery, T.MulticastListenerReport, T.MulticastListenerDone]),
      maxResponseDelay: u16,
      reserved: u16,
      multicastAddress: ipv6Text,
    }),
    encode: icmpv6.encodeMld as Encode,
  },
  mldv2Query: {
    message: 'Mldv2Query',
    payload: true,
    fields: fc.record({
      ...head([T.MulticastListenerQuery]),
      maxResponseCode: u16,
      reserved1: u16,
      multicastAddress: ipv6Text,
      reserved2: bits(4),
      s: bits(1),
      qrv: bits(3),
      qqic: u8,
      sources: fc.array(ipv6Text, { maxLength: 4 }),
    }),
    encode: icmpv6.encodeMldv2Query as Encode,
  },
  mldv2Report: {
    message: 'Mldv2Report',
    payload: true,
    fields: fc.record({
      ...head([T.Mldv2Report]),
      reserved: u16,
      records: fc.array(mldv2RecordFields, { maxLength: 3 }),
    }),
    encode: icmpv6.encodeMldv2Report as Encode,
  },
};

export const icmpv6HeadFields = fc.record({ type: u8, code: u8 });

export const dhcpv6Fields = fc
  .tuple(
    fc.record({ msgType: fc.integer({ min: 1, max: 11 }), transactionId: bits(24) }),
    dhcpv6Options,
  )
  .map(([f, o]) => ({ ...f, options: o.bytes }));

export const dhcpv6RelayFields = fc
  .tuple(
    fc.record({
      msgType: fc.constantFrom(12, 13),
      hopCount: u8,
      linkAddress: ipv6Text,
      peerAddress: ipv6Text,
    }),
    dhcpv6Options,
  )
  .map(([f, o]) => ({ ...f, options: o.bytes }));
