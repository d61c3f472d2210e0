/**
 * Decode a capture with the generated codecs: one line per frame, like a tiny tcpdump.
 *
 *   npx tsx examples/decode-pcap.ts [FILE.pcap]   (default: a Linux HTTP capture from the tests)
 *
 * The views are made once and re-pointed at every frame (`wrap`), so the loop allocates
 * nothing but the printed text. Damaged frames show the codec's typed error instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ethernet, ipv4, tcp, udp } from 'pktstack/codecs';
import { formatIpv4, openCapture } from 'pktstack/stack';

const file =
  process.argv[2] ?? join(import.meta.dirname, '../test/fixtures/pcap/linux-tcp-http.pcap');

const eth = new ethernet.EthernetView();
const ip = new ipv4.Ipv4View();
const seg = new tcp.TcpView();
const dgram = new udp.UdpView();

/** "SYN,ACK" from the TCP flag bits. */
function flagNames(flags: number): string {
  return Object.entries(tcp.TcpFlags)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => name)
    .join(',');
}

function describeFrame(bytes: Uint8Array): string {
  let err = eth.wrap(bytes);
  if (err !== null) return `bad ethernet: ${err.code} at ${err.field} (byte ${err.offset})`;
  if (ethernet.payloadKind(eth) !== 'ipv4') {
    return `ethertype 0x${eth.etherType.toString(16).padStart(4, '0')} (${ethernet.nameOfEtherType(eth.etherType) ?? '?'})`;
  }
  err = ip.wrap(bytes, eth.payloadOffset, eth.payloadLength);
  if (err !== null) return `bad ipv4: ${err.code} at ${err.field} (byte ${err.offset})`;
  const from = formatIpv4(ip.src);
  const to = formatIpv4(ip.dst);
  switch (ipv4.payloadKind(ip)) {
    case 'tcp': {
      err = seg.wrap(bytes, ip.payloadOffset, ip.payloadLength);
      if (err !== null) return `bad tcp: ${err.code} at ${err.field}`;
      const ok = seg.checksumValidWith(ip.src, ip.dst) ? '' : ' [bad checksum]';
      return `${from}:${seg.srcPort} > ${to}:${seg.dstPort} TCP [${flagNames(seg.flags)}] seq ${seg.seq} win ${seg.window} len ${seg.payloadLength}${ok}`;
    }
    case 'udp': {
      err = dgram.wrap(bytes, ip.payloadOffset, ip.payloadLength);
      if (err !== null) return `bad udp: ${err.code} at ${err.field}`;
      return `${from}:${dgram.srcPort} > ${to}:${dgram.dstPort} UDP len ${dgram.payloadLength}`;
    }
    default:
      return `${from} > ${to} ${ipv4.nameOfIpProtocol(ip.protocol) ?? `proto ${ip.protocol}`}`;
  }
}

for (const record of openCapture(readFileSync(file))) {
  console.log(`${String(record.index + 1).padStart(4)} ${describeFrame(record.bytes)}`);
}
