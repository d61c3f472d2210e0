/**
 * MLDv2 listener side (RFC 3810), so snooping switches and routers forward our groups to us:
 *
 * - joining a group sends an unsolicited state-change report (CHANGE_TO_EXCLUDE_MODE, no
 *   sources), repeated robustness-variable times at random intervals of up to the unsolicited
 *   report interval (§6.1); leaving sends CHANGE_TO_INCLUDE_MODE the same way;
 * - a general query is answered with a current-state report of every group (MODE_IS_EXCLUDE)
 *   after a random delay within its maximum response delay, a group-specific query with that
 *   group's record (§6.2, §6.3);
 * - reports go to ff02::16 with hop limit 1 and a Router Alert hop-by-hop option (§5.2.13,
 *   RFC 2711), from our link-local address or `::` before we have one;
 * - ff02::1 (all nodes) is never reported (§6), and nor are groups of a scope below link-local.
 *
 * An MLDv1 querier is answered in MLDv2 as well; the MLDv1 compatibility mode (§8.2) is not
 * kept.
 */
import { ipv6Equals } from '../../codec/address.js';
import { icmpv6, ipv4, ipv6opts } from '../../generated/index.js';
import { IPV6_MIN_MTU, IPV6_SEND_HEADROOM, type Ipv6Delivery } from '../layers.js';
import type { TimeSource } from '../arp/arp.js';
import { ALL_MLDV2_ROUTERS, ALL_NODES, UNSPECIFIED, isUnspecified, scopeOf } from './address.js';
import type { Icmpv6Layer, Icmpv6MessageHandler } from './icmpv6.js';
import type { Ipv6Layer } from './ipv6.js';

const { Icmpv6Type, Mldv2RecordType } = icmpv6;
const { IpProtocol } = ipv4;
/** RFC 3810 §9.1 and §9.11: robustness variable 2, unsolicited report interval 1 s. */
const ROBUSTNESS = 2;
const UNSOLICITED_INTERVAL_MS = 1000;
/** Records per report: keeps a report inside the minimum MTU (20 bytes per record, no sources). */
const RECORDS_PER_REPORT = 60;

interface Pending {
  group: Uint8Array | null;
  recordType: number;
  left: number;
  at: number;
}

export interface MldOptions {
  random?: () => number;
}

export class MldLayer implements Icmpv6MessageHandler {
  private readonly pending: Pending[] = [];
  private readonly tx = new Uint8Array(IPV6_SEND_HEADROOM + IPV6_MIN_MTU);
  private readonly src = new Uint8Array(16);
  /** Hop-by-hop header with Router Alert (value 0: MLD), encoded once. */
  private readonly hopByHop: Uint8Array;
  private readonly random: () => number;

  constructor(
    private readonly ip: Ipv6Layer,
    private readonly icmp: Icmpv6Layer,
    private readonly time: TimeSource,
    private readonly wake: (at: number) => void,
    options: MldOptions = {},
  ) {
    this.random = options.random ?? Math.random;
    const options6 = new Uint8Array(8);
    const n = ipv6opts.encodeIpv6Options(
      [
        { kind: 'RouterAlert', value: 0 },
        { kind: 'PadN', padding: new Uint8Array(0) },
      ],
      options6,
      0,
    );
    const header = new Uint8Array(8);
    const size = ipv6opts.encodeIpv6OptionsHeader(
      { nextHeader: IpProtocol.ICMPv6, options: options6.subarray(0, n) },
      header,
      0,
    );
    this.hopByHop = header.subarray(0, size);
    icmp.mld = this;
    ip.groupListener = (group, joined) => this.changed(group, joined);
  }

  /** Groups worth reporting: all but ff02::1 and node-local ones. */
  private reportable(group: Uint8Array): boolean {
    return !ipv6Equals(group, 0, ALL_NODES, 0) && scopeOf(group, 0) >= 2;
  }

  private changed(group: Uint8Array, joined: boolean): void {
    if (!this.reportable(group)) return;
    const recordType = joined
      ? Mldv2RecordType.ChangeToExcludeMode
      : Mldv2RecordType.ChangeToIncludeMode;
    // A newer change for the group replaces a pending one.
    const i = this.pending.findIndex((p) => p.group !== null && ipv6Equals(p.group, 0, group, 0));
    if (i >= 0) this.pending.splice(i, 1);
    const now = this.time.now();
    this.pending.push({ group: group.slice(0, 16), recordType, left: ROBUSTNESS, at: now });
    this.wake(now);
  }

  receive(m: icmpv6.Icmpv6Layouts, d: Ipv6Delivery): void {
    // §5.1.14: queries come from a link-local source with hop limit 1; reports are other
    // listeners' (nothing for us to do: we do not suppress ours, as MLDv2 says).
    let group: Uint8Array | null;
    let maxDelay: number;
    if (m.layout === 'mldv2Query') {
      const q = m.mldv2Query;
      group = isUnspecified(q.bytes, q.multicastAddressOffset)
        ? null
        : q.bytes.slice(q.multicastAddressOffset, q.multicastAddressOffset + 16);
      maxDelay = decodeMaxResponse(q.maxResponseCode);
    } else if (m.layout === 'mld' && m.head.type === Icmpv6Type.MulticastListenerQuery) {
      const q = m.mld;
      group = isUnspecified(q.bytes, q.multicastAddressOffset)
        ? null
        : q.bytes.slice(q.multicastAddressOffset, q.multicastAddressOffset + 16);
      maxDelay = q.maxResponseDelay;
    } else {
      return;
    }
    if (d.hopLimit !== 1) {
      this.icmp.stats.drops.badNd++;
      return;
    }
    if (group !== null && (!this.ip.hasGroup(group, 0) || !this.reportable(group))) return;
    const now = this.time.now();
    const at = now + Math.floor(this.random() * Math.max(1, maxDelay));
    const recordType = Mldv2RecordType.ModeIsExclude;
    const existing = this.pending.find(
      (p) =>
        p.recordType === recordType &&
        (p.group === null ||
          (group !== null && p.group !== null && ipv6Equals(p.group, 0, group, 0))),
    );
    if (existing !== undefined) {
      existing.at = Math.min(existing.at, at);
    } else {
      this.pending.push({ group, recordType, left: 1, at });
    }
    this.wake(at);
  }

  tick(now: number): void {
    for (const p of [...this.pending]) {
      if (p.at > now) {
        this.wake(p.at);
        continue;
      }
      this.send(p);
      p.left--;
      if (p.left <= 0) {
        this.pending.splice(this.pending.indexOf(p), 1);
      } else {
        p.at = now + 1 + Math.floor(this.random() * UNSOLICITED_INTERVAL_MS);
        this.wake(p.at);
      }
    }
  }

  private send(p: Pending): void {
    const groups =
      p.group !== null ? [p.group] : this.ip.groupList().filter((g) => this.reportable(g));
    for (let i = 0; i < groups.length; i += RECORDS_PER_REPORT) {
      this.sendReport(p.recordType, groups.slice(i, i + RECORDS_PER_REPORT));
    }
  }

  private sendReport(recordType: number, groups: Uint8Array[]): void {
    if (groups.length === 0) return;
    const ll = this.ip.linkLocal();
    this.src.set(ll === null ? UNSPECIFIED : ll.address);
    const hbh = this.hopByHop;
    const at = IPV6_SEND_HEADROOM;
    this.tx.set(hbh, at);
    const n = icmpv6.encodeMldv2Report(
      {
        type: Icmpv6Type.Mldv2Report,
        code: 0,
        checksum: undefined,
        reserved: 0,
        records: groups.map((g) => ({
          recordType,
          multicastAddress: g,
          sources: [],
          auxData: new Uint8Array(0),
        })),
      },
      this.tx,
      at + hbh.length,
      0,
      this.src,
      0,
      ALL_MLDV2_ROUTERS,
      0,
    );
    if (n < 0) return;
    this.icmp.stats.mldReportsSent++;
    this.ip.send(
      ALL_MLDV2_ROUTERS,
      0,
      IpProtocol.HopByHop,
      this.tx,
      at,
      hbh.length + n,
      this.src,
      1,
    );
  }
}

/** RFC 3810 §5.1.3: the maximum response code, milliseconds below 32768, else floating point. */
export function decodeMaxResponse(code: number): number {
  if (code < 0x8000) return code;
  const exp = (code >>> 12) & 0x7;
  const mant = code & 0xfff;
  return (mant | 0x1000) << (exp + 3);
}
