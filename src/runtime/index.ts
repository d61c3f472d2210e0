/**
 * `pktstack/stack`: the user-space stack as a library. Create a Link (TAP, memory pair) and a
 * Clock, then `createStack({ link, clock, ip: '10.0.0.2/24' })`.
 */
export { createStack, resolveAddress, Stack, StackConfigError } from './stack.js';
export type {
  AddressConfig,
  AddressInput,
  ResolvedAddress,
  StackOptions,
  Ticker,
} from './stack.js';
export {
  EthernetLayer,
  BROADCAST_MAC,
  ETHERNET_HEADER_LENGTH,
  isGroupMac,
} from './ethernet/ethernet.js';
export type { EthernetReceiver, FrameSink } from './ethernet/ethernet.js';
export { ArpLayer } from './arp/arp.js';
export type { ArpOptions, ResolvedSender, TimeSource } from './arp/arp.js';
export { Ipv4Layer } from './ipv4/ipv4.js';
export type { Ipv4ErrorReporter, Ipv4Options } from './ipv4/ipv4.js';
export { Reassembler } from './ipv4/reassembly.js';
export type { ReassemblyOptions } from './ipv4/reassembly.js';
export { IcmpLayer } from './icmp/icmp.js';
export type { IcmpErrorReceiver, IcmpOptions } from './icmp/icmp.js';
export { UdpLayer, UDP_SEND_HEADROOM, UDP_MAX_PAYLOAD, UDP_IPV6_MAX_PAYLOAD } from './udp/udp.js';
export type { UdpIpv4, UdpIpv6, UdpIpv6ErrorReporter } from './udp/udp.js';
export { UdpSocket } from './udp/socket.js';
export { UdpEchoServer } from './udp/echo.js';
export type { UdpSendCallback, UdpSocketEvents } from './udp/socket.js';
export { UdpSocketError } from './udp/types.js';
export type {
  UdpAddressInfo,
  UdpDatagramReceiver,
  UdpDelivery,
  UdpFamily,
  UdpRemoteInfo,
  UdpSocketOptions,
  UdpSocketType,
} from './udp/types.js';
export { IPV4_SEND_HEADROOM, IPV6_SEND_HEADROOM, SendStatus } from './layers.js';
export type {
  Ipv4Delivery,
  Ipv4Sender,
  Ipv6Delivery,
  Ipv6Sender,
  TransportReceiver,
} from './layers.js';
export type { Clock, TimerHandle } from './clock/clock.js';
export type { FrameReceiver, Link, LinkStats } from './link/link.js';
export { dropsByReason, snapshotStats, totalDrops } from './stats.js';
export type * from './stats.js';

// ---------------------------------------------------------------- links, clocks, captures
export { openTap, openFrameFd, frameSocketPair, setKernelIpv4, TapLink } from './link/tap.js';
export type { TapError, TapLinkStats, TapOptions } from './link/tap.js';
export { AddonMissingError } from './link/native.js';
export { createMemoryLinkPair, MemoryLink } from './link/memory.js';
export type { MemoryLinkPairOptions, MemoryLinkStats } from './link/memory.js';
export { recordPcap, PcapRecorderLink } from './link/pcap-recorder.js';
export type { PcapRecorderOptions, PcapRecorderStats } from './link/pcap-recorder.js';
export { injectFaults, FaultLink } from './link/faults.js';
export type * from './link/faults.js';
export { RealClock } from './clock/real.js';
export type { RealClockOptions } from './clock/real.js';
export { VirtualClock, TimerStormError, ReentrantAdvanceError } from './clock/virtual.js';
export type { VirtualClockOptions } from './clock/virtual.js';
export { openCapture, PcapError, LINKTYPE_ETHERNET } from '../pcap/reader.js';
export type { CaptureFormat, CaptureReader, CaptureRecord, PcapErrorCode } from '../pcap/reader.js';
export { PcapWriter } from '../pcap/writer.js';
export { CaptureDecoder, CaptureLayer } from '../decode/capture.js';
export type { FrameError, CaptureLayerName } from '../decode/capture.js';
export { formatIpv4, parseIpv4, formatMac, parseMac } from '../codec/address.js';

// ---------------------------------------------------------------- transports and services
export * from './tcp/index.js';
export * from './dns/index.js';
export * from './dhcp/index.js';
export * from './dhcp6/index.js';
export * from './http/index.js';
export { StackNet, NetServer, NetSocket } from './net/net.js';
export type {
  NetAddressInfo,
  NetConnectOptions,
  NetListenOptions,
  NetLookupFunction,
  NetServerOptions,
  NetSocketOptions,
} from './net/net.js';
