/**
 * Golden-test the codecs against a capture: every frame decoded with our views is compared with
 * what tshark said about the same frame (an "oracle" file, one JSON object per frame).
 *
 *   npx tsx scripts/tshark-oracle.ts my.pcap > my.jsonl      # once, with tshark installed
 *   npx tsx examples/golden-check.ts my.pcap my.jsonl        # exit 0 when all frames agree
 *
 * Without arguments it checks a Linux HTTP capture from the test fixtures. This compares the
 * main header fields; test/golden/ in the repository compares every field tshark reports.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ethernet, ipv4, tcp, udp } from 'pktstack/codecs';
import { formatIpv4, formatMac, openCapture } from 'pktstack/stack';

type Fields = Record<string, unknown>;
interface OracleFrame {
  n: number;
  eth?: Fields;
  ip?: Fields;
  tcp?: Fields;
  udp?: Fields;
}

const fixtures = join(import.meta.dirname, '../test/fixtures');
const capture = process.argv[2] ?? join(fixtures, 'pcap/linux-tcp-http.pcap');
const oracleFile = process.argv[3] ?? join(fixtures, 'oracle/linux-tcp-http.jsonl');

const oracle = readFileSync(oracleFile, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as OracleFrame);

const eth = new ethernet.EthernetView();
const ip = new ipv4.Ipv4View();
const seg = new tcp.TcpView();
const dgram = new udp.UdpView();
const mismatches: string[] = [];

function expectField(frame: number, name: string, ours: unknown, theirs: unknown): void {
  if (theirs !== undefined && ours !== theirs) {
    mismatches.push(`frame ${frame}: ${name} is ${String(ours)}, tshark says ${String(theirs)}`);
  }
}

let frames = 0;
for (const record of openCapture(readFileSync(capture))) {
  const n = record.index + 1;
  const want = oracle[record.index];
  frames++;
  if (want === undefined || want.n !== n) {
    mismatches.push(`frame ${n}: missing from the oracle`);
    continue;
  }
  if (eth.wrap(record.bytes) !== null) {
    if (want.eth !== undefined) mismatches.push(`frame ${n}: we could not decode Ethernet`);
    continue;
  }
  expectField(n, 'eth.src', formatMac(eth.src), want.eth?.src);
  expectField(n, 'eth.dst', formatMac(eth.dst), want.eth?.dst);
  expectField(n, 'eth.type', eth.etherType, want.eth?.type);
  if (want.ip === undefined) continue;
  if (ip.wrap(record.bytes, eth.payloadOffset, eth.payloadLength) !== null) {
    mismatches.push(`frame ${n}: we could not decode IPv4`);
    continue;
  }
  expectField(n, 'ip.src', formatIpv4(ip.src), want.ip.src);
  expectField(n, 'ip.dst', formatIpv4(ip.dst), want.ip.dst);
  expectField(n, 'ip.ttl', ip.ttl, want.ip.ttl);
  expectField(n, 'ip.len', ip.totalLength, want.ip.len);
  expectField(n, 'ip.checksum_status', ip.checksumValid ? 'good' : 'bad', want.ip.checksum_status);
  if (
    want.tcp !== undefined &&
    seg.wrap(record.bytes, ip.payloadOffset, ip.payloadLength) === null
  ) {
    expectField(n, 'tcp.srcport', seg.srcPort, want.tcp.srcport);
    expectField(n, 'tcp.dstport', seg.dstPort, want.tcp.dstport);
    expectField(n, 'tcp.seq', seg.seq, want.tcp.seq);
    expectField(n, 'tcp.ack', seg.ack, want.tcp.ack);
    expectField(n, 'tcp.flags', seg.flags, want.tcp.flags);
    expectField(n, 'tcp.window', seg.window, want.tcp.window);
    expectField(n, 'tcp.payload_len', seg.payloadLength, want.tcp.payload_len);
  } else if (
    want.udp !== undefined &&
    dgram.wrap(record.bytes, ip.payloadOffset, ip.payloadLength) === null
  ) {
    expectField(n, 'udp.srcport', dgram.srcPort, want.udp.srcport);
    expectField(n, 'udp.dstport', dgram.dstPort, want.udp.dstport);
    expectField(n, 'udp.length', dgram.length, want.udp.length);
  } else if (want.tcp !== undefined || want.udp !== undefined) {
    mismatches.push(`frame ${n}: we could not decode the transport header`);
  }
}

if (frames !== oracle.length) mismatches.push(`${frames} frames, the oracle has ${oracle.length}`);
for (const m of mismatches) console.log(m);
console.log(
  mismatches.length === 0
    ? `${frames} frames agree with tshark`
    : `${mismatches.length} mismatches in ${frames} frames`,
);
process.exitCode = mismatches.length === 0 ? 0 : 1;
