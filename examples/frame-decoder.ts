/**
 * Tally a capture by protocol with the generated FrameDecoder: one decode() call per frame
 * fills one view per layer (Ethernet, VLAN, ARP, IPv4, ICMP, UDP, TCP, DHCP, DNS), following
 * the dispatch tables in the specs.
 *
 *   npx tsx examples/frame-decoder.ts [FILE.pcap]   (default: a Linux DNS capture from the tests)
 *
 * The decoder and its views are made once; the loop allocates nothing per frame.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { frame, tcp } from 'pktstack/codecs';
import { openCapture } from 'pktstack/stack';

const { FrameDecoder, FrameLayer } = frame;
const file = process.argv[2] ?? join(import.meta.dirname, '../test/fixtures/pcap/linux-dns.pcap');

const decoder = new FrameDecoder();
const INNERMOST_FIRST = [
  'dns',
  'dhcp',
  'tcp',
  'udp',
  'icmp',
  'arp',
  'ipv4',
  'vlan',
  'ethernet',
] as const satisfies ReadonlyArray<keyof typeof FrameLayer>;
const frames: Record<string, number> = {};
const errors: Record<string, number> = {};
let synSeen = 0;
let dnsAnswers = 0;

for (const record of openCapture(readFileSync(file))) {
  const err = decoder.decode(record.bytes);
  // The innermost layer decoded names the frame.
  const top = INNERMOST_FIRST.find((name) => decoder.has(FrameLayer[name])) ?? 'undecoded';
  frames[top] = (frames[top] ?? 0) + 1;
  if (err !== null) {
    const key = `${err.layer} ${err.code} at ${err.field}`;
    errors[key] = (errors[key] ?? 0) + 1;
  }
  if (decoder.has(FrameLayer.tcp) && (decoder.tcp.flags & tcp.TcpFlags.SYN) !== 0) synSeen++;
  if (decoder.has(FrameLayer.dns)) dnsAnswers += decoder.dns.ancount;
}

console.log(`frames by innermost layer: ${JSON.stringify(frames)}`);
console.log(`decode errors: ${JSON.stringify(errors)}`);
console.log(`TCP SYNs: ${synSeen}, DNS answers: ${dnsAnswers}`);
