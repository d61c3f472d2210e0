/**
 * Address conflict detection for DHCP (RFC 2131 §4.4.1, done the RFC 5227 way): before using an
 * offered address, broadcast ARP probes for it (sender IP 0.0.0.0, so no one's cache is
 * touched) and listen: any ARP from another host claiming that address as its sender, or
 * probing for it too, means it is taken.
 *
 * The stack's ARP layer has no probe call, so the prober sits in front of it on the Ethernet
 * demux for the ARP EtherType, passes every frame on unchanged, and watches them while a probe
 * is running. It sends its probes through the Ethernet layer like the ARP layer does.
 */
import type { FrameDecoder } from '../../generated/frame.js';
import { arp, ethernet as ethernetSpec } from '../../generated/index.js';
import type { Clock } from '../clock/clock.js';
import {
  BROADCAST_MAC,
  ETHERNET_HEADER_LENGTH,
  type EthernetLayer,
  type EthernetReceiver,
} from '../ethernet/ethernet.js';

/** What the DHCP service needs to check an address before using it. */
export interface AddressProber {
  /** Resolves true when another host answers for `ip` (it is in use), false otherwise. */
  probeAddress(ip: number): Promise<boolean>;
}

export interface ArpProberOptions {
  /** Probes sent (RFC 5227 PROBE_NUM = 3). */
  probes?: number;
  /**
   * Between probes, ms. Default 500: RFC 5227's 1-2 s are for link-local addresses; a DHCP
   * server has usually checked the address already, so a shorter check is the common choice.
   */
  intervalMs?: number;
  /** Listening after the last probe, ms (default 1000; RFC 5227 ANNOUNCE_WAIT is 2 s). */
  waitMs?: number;
}

const { EtherType } = ethernetSpec;
const ARP_LENGTH = arp.ARP_FIXED_SIZE;

interface Probe {
  ip: number;
  sent: number;
  inUse: boolean;
  timer: { cancel(): void } | null;
  waiters: Array<(inUse: boolean) => void>;
}

export class ArpProber implements AddressProber, EthernetReceiver {
  private readonly probes = new Map<number, Probe>();
  private readonly view = new arp.ArpView();
  private readonly tx = new Uint8Array(ETHERNET_HEADER_LENGTH + ARP_LENGTH);
  private readonly count: number;
  private readonly intervalMs: number;
  private readonly waitMs: number;
  /** Conflicts seen, for stats. */
  conflicts = 0;

  /**
   * Installs the prober in front of `arpLayer` on `ethernet` (frames still reach `arpLayer`).
   */
  constructor(
    private readonly ethernet: EthernetLayer,
    private readonly arpLayer: EthernetReceiver,
    private readonly clock: Clock,
    options: ArpProberOptions = {},
  ) {
    this.count = Math.max(1, options.probes ?? 3);
    this.intervalMs = options.intervalMs ?? 500;
    this.waitMs = options.waitMs ?? 1000;
    ethernet.register(EtherType.ARP, this);
  }

  probeAddress(ip: number): Promise<boolean> {
    ip = ip >>> 0;
    return new Promise((resolve) => {
      const running = this.probes.get(ip);
      if (running !== undefined) {
        running.waiters.push(resolve);
        return;
      }
      const p: Probe = { ip, sent: 0, inUse: false, timer: null, waiters: [resolve] };
      this.probes.set(ip, p);
      this.step(p);
    });
  }

  /** Cancels every probe in progress (each resolves as "not in use"). */
  close(): void {
    for (const p of [...this.probes.values()]) this.finish(p);
  }

  receive(
    bytes: Uint8Array,
    offset: number,
    length: number,
    srcMac: number,
    linkBroadcast: boolean,
    frame: FrameDecoder,
  ): void {
    this.arpLayer.receive(bytes, offset, length, srcMac, linkBroadcast, frame);
    if (this.probes.size === 0) return;
    const v = this.view;
    if (v.wrap(bytes, offset, length) !== null || v.ptype !== EtherType.IPv4) return;
    const sha = v.sha;
    if (sha === this.ethernet.mac) return; // our own probe looped back
    // RFC 5227 §2.1.1: a conflict is any ARP whose sender IP is the address, or a probe
    // (sender IP 0) from another host for the same address.
    const spa = v.spa;
    const p =
      this.probes.get(spa) ??
      (v.op === arp.ArpOp.Request && spa === 0 ? this.probes.get(v.tpa) : undefined);
    if (p === undefined) return;
    p.inUse = true;
    this.conflicts++;
    this.finish(p);
  }

  private step(p: Probe): void {
    if (p.sent < this.count) {
      this.sendProbe(p.ip);
      p.sent++;
      const delay = p.sent < this.count ? this.intervalMs : this.waitMs;
      p.timer = this.clock.setTimer(delay, () => this.step(p));
      return;
    }
    this.finish(p);
  }

  private finish(p: Probe): void {
    if (this.probes.get(p.ip) !== p) return;
    this.probes.delete(p.ip);
    p.timer?.cancel();
    for (const w of p.waiters) w(p.inUse);
  }

  private sendProbe(ip: number): void {
    arp.encodeArp(
      {
        htype: 1,
        ptype: EtherType.IPv4,
        hlen: 6,
        plen: 4,
        op: arp.ArpOp.Request,
        sha: this.ethernet.mac,
        spa: 0,
        tha: 0,
        tpa: ip,
      },
      this.tx,
      ETHERNET_HEADER_LENGTH,
    );
    this.ethernet.send(BROADCAST_MAC, EtherType.ARP, this.tx, 0, ARP_LENGTH);
  }
}
