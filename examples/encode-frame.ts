/**
 * Build an Ethernet + IPv4 + UDP frame with the generated encoders, then decode it back.
 *
 *   npx tsx examples/encode-frame.ts
 *
 * Encoders write into a buffer you own and return the bytes written; lengths and checksums
 * left `undefined` are computed. A checksum covering the payload needs the payload in place
 * first, so the frame is filled from the inside out: payload, UDP header, IPv4 header, Ethernet.
 */
import { ethernet, ipv4, udp } from 'pktstack/codecs';
import { formatIpv4, formatMac, parseIpv4, parseMac } from 'pktstack/stack';

const payload = new TextEncoder().encode('hello from the codecs');
const src = parseIpv4('10.0.0.2');
const dst = parseIpv4('10.0.0.1');

const frame = new Uint8Array(
  ethernet.ETHERNET_FIXED_SIZE + ipv4.IPV4_FIXED_SIZE + 8 + payload.length,
);
const ipAt = ethernet.ETHERNET_FIXED_SIZE;
const udpAt = ipAt + ipv4.IPV4_FIXED_SIZE;
frame.set(payload, udpAt + 8);

const udpLength = udp.encodeUdp(
  { srcPort: 40000, dstPort: 7 },
  frame,
  udpAt,
  payload.length,
  src,
  dst,
);
ipv4.encodeIpv4(
  {
    version: 4,
    dscp: 0,
    ecn: 0,
    identification: 1,
    flags: ipv4.Ipv4Flags.DF,
    fragmentOffset: 0,
    ttl: 64,
    protocol: ipv4.IpProtocol.UDP,
    src,
    dst,
    options: new Uint8Array(0),
  },
  frame,
  ipAt,
  udpLength + payload.length,
);
ethernet.encodeEthernet(
  {
    dst: parseMac('02:00:00:00:00:01'),
    src: parseMac('02:00:00:00:00:02'),
    etherType: ethernet.EtherType.IPv4,
  },
  frame,
  0,
);

console.log(`frame (${frame.length} bytes): ${Buffer.from(frame).toString('hex')}`);

// Decode it again with the views and check what the encoder computed.
const eth = new ethernet.EthernetView();
const ip = new ipv4.Ipv4View();
const u = new udp.UdpView();
if (eth.wrap(frame) !== null) throw new Error('ethernet');
if (ip.wrap(frame, eth.payloadOffset, eth.payloadLength) !== null) throw new Error('ipv4');
if (u.wrap(frame, ip.payloadOffset, ip.payloadLength) !== null) throw new Error('udp');
console.log(`ethernet ${formatMac(eth.src)} > ${formatMac(eth.dst)}`);
console.log(
  `ipv4 ${formatIpv4(ip.src)} > ${formatIpv4(ip.dst)} ttl ${ip.ttl} totalLength ${ip.totalLength} checksum ok: ${ip.checksumValid}`,
);
console.log(
  `udp ${u.srcPort} > ${u.dstPort} length ${u.length} checksum ok: ${u.checksumValidWith(ip.src, ip.dst)}`,
);
console.log(
  `payload: ${new TextDecoder().decode(frame.subarray(u.payloadOffset, u.payloadOffset + u.payloadLength))}`,
);
