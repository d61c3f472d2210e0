/**
 * ICMPv6 in `pktstack decode`: the message in the layout its type names (specs/icmpv6.pkt), read
 * with the generated views. The common head (`Icmpv6`) is wrapped first; a known type is then
 * wrapped with its own view, which checks its fixed fields and, for Neighbor Discovery, its
 * option list. An MLD query longer than MLDv1's 24 bytes is MLDv2 (RFC 3810 §8.1); an MLDv2
 * report's records are read one after another with the `Mldv2Record` view (each one's
 * `messageLength` is where the next starts). Unknown types are shown as the head alone.
 */
import type { DecodeError } from '../codec/errors.js';
import { icmpv6 } from '../generated/index.js';

const T = icmpv6.Icmpv6Type;

/** Which view holds the message (see specs/icmpv6.pkt). */
export type Icmpv6Layout =
  | 'head'
  | 'echo'
  | 'error'
  | 'packetTooBig'
  | 'parameterProblem'
  | 'routerSolicitation'
  | 'routerAdvertisement'
  | 'neighborSolicitation'
  | 'neighborAdvertisement'
  | 'redirect'
  | 'mld'
  | 'mldv2Query'
  | 'mldv2Report';

/** A view of one layout: all of them have these (generated). */
interface LayoutView {
  wrap(bytes: Uint8Array, offset?: number, length?: number): DecodeError | null;
  toJSON(src?: Uint8Array, dst?: Uint8Array): object;
  describe(): string;
  checksumValidWithIpv6(
    src: Uint8Array,
    srcOffset: number,
    dst: Uint8Array,
    dstOffset: number,
  ): boolean;
  readonly payloadOffset?: number;
  readonly payloadLength?: number;
}

type PrefixDecoder = (bytes: Uint8Array, offset: number, length: number, last?: string) => object;

/** The layout of a message of `type` whose head says `payloadLength` bytes follow it. */
export function icmpv6Layout(type: number, payloadLength: number): Icmpv6Layout {
  switch (type) {
    case T.EchoRequest:
    case T.EchoReply:
      return 'echo';
    case T.DestinationUnreachable:
    case T.TimeExceeded:
      return 'error';
    case T.PacketTooBig:
      return 'packetTooBig';
    case T.ParameterProblem:
      return 'parameterProblem';
    case T.RouterSolicitation:
      return 'routerSolicitation';
    case T.RouterAdvertisement:
      return 'routerAdvertisement';
    case T.NeighborSolicitation:
      return 'neighborSolicitation';
    case T.NeighborAdvertisement:
      return 'neighborAdvertisement';
    case T.Redirect:
      return 'redirect';
    case T.MulticastListenerQuery:
      // RFC 3810 §8.1: a query of 28 bytes or more is MLDv2 (24 is MLDv1).
      return payloadLength + icmpv6.ICMPV6_FIXED_SIZE > icmpv6.MLD_FIXED_SIZE
        ? 'mldv2Query'
        : 'mld';
    case T.MulticastListenerReport:
    case T.MulticastListenerDone:
      return 'mld';
    case T.Mldv2Report:
      return 'mldv2Report';
    default:
      return 'head';
  }
}

/** The views of every layout, owned and re-pointed per message (a walk allocates nothing). */
export class Icmpv6Decoder {
  readonly head = new icmpv6.Icmpv6View();
  readonly echo = new icmpv6.Icmpv6EchoView();
  readonly error = new icmpv6.Icmpv6ErrorView();
  readonly packetTooBig = new icmpv6.Icmpv6PacketTooBigView();
  readonly parameterProblem = new icmpv6.Icmpv6ParameterProblemView();
  readonly routerSolicitation = new icmpv6.NdRouterSolicitationView();
  readonly routerAdvertisement = new icmpv6.NdRouterAdvertisementView();
  readonly neighborSolicitation = new icmpv6.NdNeighborSolicitationView();
  readonly neighborAdvertisement = new icmpv6.NdNeighborAdvertisementView();
  readonly redirect = new icmpv6.NdRedirectView();
  readonly mld = new icmpv6.MldView();
  readonly mldv2Query = new icmpv6.Mldv2QueryView();
  readonly mldv2Report = new icmpv6.Mldv2ReportView();
  private readonly record = new icmpv6.Mldv2RecordView();
  layout: Icmpv6Layout = 'head';

  /**
   * Wraps the message at bytes[offset, offset + length) with the head's view, then with its
   * layout's; returns the first error (the layout is then the one that failed).
   */
  wrap(bytes: Uint8Array, offset: number, length: number): DecodeError | null {
    this.layout = 'head';
    const err = this.head.wrap(bytes, offset, length);
    if (err !== null) return err;
    this.layout = icmpv6Layout(this.head.type, this.head.payloadLength);
    if (this.layout === 'head') return null;
    return this.view.wrap(bytes, offset, length);
  }

  /** The view of the current layout. */
  get view(): LayoutView {
    return this[this.layout];
  }

  /** The prefix decoder of the current layout (the fields before a failing one). */
  get prefixDecoder(): PrefixDecoder {
    return PREFIX[this.layout];
  }

  /** The message as toJSON() shows it, addresses for the checksum given; MLDv2 records added. */
  toJSON(src?: Uint8Array, dst?: Uint8Array): Record<string, unknown> {
    const out: Record<string, unknown> = { ...this.view.toJSON(src, dst) };
    if (this.layout === 'mldv2Report') out.records = this.records();
    return out;
  }

  /**
   * The records of an MLDv2 report, each as Mldv2Record's toJSON(); stops at the first that
   * does not fit (allocates).
   */
  records(): object[] {
    const r = this.mldv2Report;
    const out: object[] = [];
    const end = r.offset + r.byteLength;
    let at = r.recordsOffset;
    for (let i = 0; i < r.numRecords; i++) {
      if (this.record.wrap(r.bytes, at, end - at) !== null) break;
      out.push(this.record.toJSON());
      at += this.record.messageLength;
    }
    return out;
  }
}

const PREFIX: Record<Icmpv6Layout, PrefixDecoder> = {
  head: icmpv6.decodeIcmpv6Prefix,
  echo: icmpv6.decodeIcmpv6EchoPrefix,
  error: icmpv6.decodeIcmpv6ErrorPrefix,
  packetTooBig: icmpv6.decodeIcmpv6PacketTooBigPrefix,
  parameterProblem: icmpv6.decodeIcmpv6ParameterProblemPrefix,
  routerSolicitation: icmpv6.decodeNdRouterSolicitationPrefix,
  routerAdvertisement: icmpv6.decodeNdRouterAdvertisementPrefix,
  neighborSolicitation: icmpv6.decodeNdNeighborSolicitationPrefix,
  neighborAdvertisement: icmpv6.decodeNdNeighborAdvertisementPrefix,
  redirect: icmpv6.decodeNdRedirectPrefix,
  mld: icmpv6.decodeMldPrefix,
  mldv2Query: icmpv6.decodeMldv2QueryPrefix,
  mldv2Report: icmpv6.decodeMldv2ReportPrefix,
};
