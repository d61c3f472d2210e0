/**
 * The far end of the stack's link for the packetdrill interpreter: frames the stack sends are
 * decoded (generated views) and queued with the virtual time they left at; ARP requests are
 * answered at once so the stack reaches the script's remote address; inbound segments are
 * framed with the generated encoders and handed to the stack synchronously.
 */
import { arp, ethernet, ipv4, tcp } from '../generated/index.js';
import type { Clock } from '../runtime/clock/clock.js';
import type { FrameReceiver, Link, LinkStats } from '../runtime/link/link.js';

export const STACK_MAC = 0x020000000001;
export const REMOTE_MAC = 0x020000000002;

/** One TCP segment the stack sent, decoded. */
export interface SentSegment {
  /** Virtual time it was sent, in microseconds. */
  usecs: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgentPointer: number;
  options: tcp.TcpOptionsItem[];
  payloadLength: number;
  /** IP ECN bits. */
  ecn: number;
}

export class DrillLink implements Link {
  readonly mac = STACK_MAC;
  readonly mtu = 1500;
  readonly sent: SentSegment[] = [];
  /** Frames the stack sent that were neither ARP nor IPv4/TCP (counted, not matched). */
  otherFrames = 0;
  private receiver: FrameReceiver | null = null;
  private readonly counters: LinkStats = {
    rxFrames: 0,
    rxBytes: 0,
    txFrames: 0,
    txBytes: 0,
    txDropped: 0,
  };
  private readonly eth = new ethernet.EthernetView();
  private readonly arpView = new arp.ArpView();
  private readonly ip = new ipv4.Ipv4View();
  private readonly seg = new tcp.TcpView();
  private readonly out = new Uint8Array(14 + 60 + 60 + 65536);
  private identification = 0;

  constructor(private readonly clock: Clock) {}

  send(bytes: Uint8Array, offset: number, length: number): boolean {
    this.counters.txFrames++;
    this.counters.txBytes += length;
    if (this.eth.wrap(bytes, offset, length) !== null) {
      this.otherFrames++;
      return true;
    }
    const at = this.eth.payloadOffset;
    const rest = offset + length - at;
    if (this.eth.etherType === ethernet.EtherType.ARP) {
      if (this.arpView.wrap(bytes, at, rest) === null && this.arpView.op === arp.ArpOp.Request)
        this.answerArp(this.arpView.spa, this.arpView.tpa);
      return true;
    }
    if (
      this.eth.etherType !== ethernet.EtherType.IPv4 ||
      this.ip.wrap(bytes, at, rest) !== null ||
      this.ip.protocol !== ipv4.IpProtocol.TCP ||
      this.seg.wrap(bytes, this.ip.payloadOffset, this.ip.payloadLength) !== null
    ) {
      this.otherFrames++;
      return true;
    }
    const s = this.seg;
    this.sent.push({
      usecs: Math.round(this.clock.now() * 1000),
      srcPort: s.srcPort,
      dstPort: s.dstPort,
      seq: s.seq,
      ack: s.ack,
      flags: s.flags,
      window: s.window,
      urgentPointer: s.urgentPointer,
      options: tcp.decodeTcpOptions(bytes, s.optionsOffset, s.optionsLength),
      payloadLength: s.payloadLength,
      ecn: this.ip.ecn,
    });
    return true;
  }

  setReceiver(receiver: FrameReceiver): void {
    this.receiver = receiver;
  }

  stats(): LinkStats {
    return { ...this.counters };
  }

  close(): Promise<void> {
    this.receiver = null;
    return Promise.resolve();
  }

  /** Delivers one TCP segment (zero payload bytes of `payloadLength`) from `src` to `dst`. */
  inject(
    src: number,
    dst: number,
    fields: tcp.TcpFields,
    payloadLength: number,
    ecn = 0,
    dscp = 0,
  ): boolean {
    const out = this.out;
    const tcpAt = 14 + 20;
    const headerLength = tcp.tcpHeaderLength(fields);
    if (tcpAt + headerLength + payloadLength > out.length) return false;
    out.fill(0, tcpAt + headerLength, tcpAt + headerLength + payloadLength);
    const t = tcp.encodeTcp(fields, out, tcpAt, payloadLength, src, dst);
    if (t < 0) return false;
    const ipLength = ipv4.encodeIpv4(
      {
        version: 4,
        dscp,
        ecn,
        identification: this.identification++ & 0xffff,
        flags: ipv4.Ipv4Flags.DF,
        fragmentOffset: 0,
        ttl: 64,
        protocol: ipv4.IpProtocol.TCP,
        src,
        dst,
        options: new Uint8Array(0),
      },
      out,
      14,
      t + payloadLength,
    );
    if (ipLength < 0) return false;
    ethernet.encodeEthernet(
      { dst: STACK_MAC, src: REMOTE_MAC, etherType: ethernet.EtherType.IPv4 },
      out,
      0,
    );
    this.deliver(14 + ipLength + t + payloadLength);
    return true;
  }

  private answerArp(asker: number, target: number): void {
    const out = this.out;
    const n = arp.encodeArp(
      {
        htype: arp.ArpHardware.Ethernet,
        ptype: ethernet.EtherType.IPv4,
        hlen: 6,
        plen: 4,
        op: arp.ArpOp.Reply,
        sha: REMOTE_MAC,
        spa: target,
        tha: STACK_MAC,
        tpa: asker,
      },
      out,
      14,
    );
    if (n < 0) return;
    ethernet.encodeEthernet(
      { dst: STACK_MAC, src: REMOTE_MAC, etherType: ethernet.EtherType.ARP },
      out,
      0,
    );
    this.deliver(14 + n);
  }

  private deliver(length: number): void {
    const r = this.receiver;
    if (r === null) return;
    this.counters.rxFrames++;
    this.counters.rxBytes += length;
    r.receive(this.out, 0, length);
    r.batchEnd();
  }
}
