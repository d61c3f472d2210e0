/**
 * The TAP addon against the real kernel, in a namespace of our own (scripts/netns.sh): the kernel
 * side is tap0 = 10.0.0.1/24, and this test plays 10.0.0.2 by hand-crafting ARP and ICMP replies
 * (the real stack is tested in stack.test.ts). Needs root; skipped otherwise.
 */
import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTap, setKernelIpv4, type TapError, type TapLink } from '../../src/runtime/link/tap.js';
import type { FrameReceiver } from '../../src/runtime/link/link.js';

const isRoot = process.getuid?.() === 0;
const NS = `pkt-tap-k${process.pid}`;
const NETNS_SH = join(import.meta.dirname, '..', '..', 'scripts', 'netns.sh');
const KERNEL_MAC = 0x020000000001;
const OUR_MAC = 0x020000000002;
const KERNEL_IP = 0x0a000001;
const OUR_IP = 0x0a000002;
const run = promisify(execFile);

function inNs(...args: string[]): string {
  const r = spawnSync('ip', ['netns', 'exec', NS, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function putMac(b: Uint8Array, at: number, mac: number): void {
  for (let i = 5; i >= 0; i--) {
    b[at + i] = mac % 256;
    mac = Math.floor(mac / 256);
  }
}
const getMac = (b: Uint8Array, at: number): number => {
  let mac = 0;
  for (let i = 0; i < 6; i++) mac = mac * 256 + b[at + i];
  return mac;
};
const get32 = (b: Uint8Array, at: number): number =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
function checksum(b: Uint8Array, start: number, length: number): number {
  let sum = 0;
  for (let i = 0; i + 1 < length; i += 2) sum += (b[start + i] << 8) | b[start + i + 1];
  if (length & 1) sum += b[start + length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Answers ARP for 10.0.0.2 and ICMP echo requests to it; records what it saw. */
class HandResponder implements FrameReceiver {
  arpRequests: { sha: number; spa: number; tpa: number }[] = [];
  echoes = 0;
  udpFrames = 0;
  private readonly out = new Uint8Array(2048);
  constructor(private readonly link: TapLink) {}
  receive(b: Uint8Array, o: number, len: number): void {
    const type = (b[o + 12] << 8) | b[o + 13];
    if (type === 0x0806 && len >= 42 && ((b[o + 20] << 8) | b[o + 21]) === 1) {
      const req = { sha: getMac(b, o + 22), spa: get32(b, o + 28), tpa: get32(b, o + 38) };
      this.arpRequests.push(req);
      if (req.tpa !== OUR_IP) return;
      const r = this.out;
      putMac(r, 0, req.sha);
      putMac(r, 6, this.link.mac);
      r.set([0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2], 12);
      putMac(r, 22, this.link.mac);
      put32(r, 28, OUR_IP);
      putMac(r, 32, req.sha);
      put32(r, 38, req.spa);
      this.link.send(r, 0, 42);
    } else if (type === 0x0800 && len >= 34) {
      const ihl = (b[o + 14] & 15) * 4;
      const total = (b[o + 16] << 8) | b[o + 17];
      if (b[o + 23] === 17) this.udpFrames++;
      if (b[o + 23] !== 1 || get32(b, o + 30) !== OUR_IP || b[o + 14 + ihl] !== 8) return;
      const r = this.out;
      r.set(b.subarray(o, o + 14 + total), 0);
      putMac(r, 0, getMac(b, o + 6));
      putMac(r, 6, this.link.mac);
      put32(r, 26, OUR_IP);
      put32(r, 30, get32(b, o + 26)); // swapping addresses leaves the IP checksum valid
      const icmp = 14 + ihl;
      r[icmp] = 0;
      r[icmp + 2] = 0;
      r[icmp + 3] = 0;
      const sum = checksum(r, icmp, total - ihl);
      r[icmp + 2] = sum >>> 8;
      r[icmp + 3] = sum & 0xff;
      this.echoes++;
      this.link.send(r, 0, 14 + total);
    }
  }
  batchEnd(): void {}
}

/** A minimal valid Ethernet/IPv4/UDP frame from 10.0.0.2 to the kernel's discard port. */
function udpFrame(seq: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 8 + 32);
  putMac(f, 0, KERNEL_MAC);
  putMac(f, 6, OUR_MAC);
  f.set([0x08, 0x00, 0x45, 0, 0, 60, seq >>> 8, seq & 0xff, 0x40, 0, 64, 17], 12);
  put32(f, 26, OUR_IP);
  put32(f, 30, KERNEL_IP);
  const ipSum = checksum(f, 14, 20);
  f[24] = ipSum >>> 8;
  f[25] = ipSum & 0xff;
  f.set([0x30, 0x39, 0, 9, 0, 40, 0, 0], 34); // UDP checksum 0 = none
  return f;
}

const kernelRxPackets = (): number =>
  Number(inNs('cat', '/sys/class/net/tap0/statistics/rx_packets').trim());

describe.skipIf(!isRoot)('TAP addon on the real kernel (needs root: skipped otherwise)', () => {
  let link: TapLink | undefined;

  beforeAll(() => {
    const r = spawnSync('bash', [NETNS_SH, 'up', NS], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`netns.sh up failed: ${r.stderr}`);
  });
  afterAll(async () => {
    await link?.close();
    spawnSync('bash', [NETNS_SH, 'down', NS]);
  });

  it('opens tap0 in the namespace, reads its MAC and MTU, and answers the kernel ARP + ping', async () => {
    link = await openTap({ name: 'tap0', netns: NS });
    expect(link.name).toBe('tap0');
    expect(link.kernelMac).toBe(KERNEL_MAC);
    expect(link.mac).toBe(OUR_MAC);
    expect(link.mtu).toBe(1500);
    const responder = new HandResponder(link);
    link.setReceiver(responder);
    const { stdout } = await run('ip', [
      'netns',
      'exec',
      NS,
      'ping',
      '-c',
      '3',
      '-i',
      '0.2',
      '-W',
      '2',
      '10.0.0.2',
    ]);
    expect(stdout).toContain('3 received');
    expect(responder.arpRequests[0]).toEqual({ sha: KERNEL_MAC, spa: KERNEL_IP, tpa: OUR_IP });
    expect(responder.echoes).toBe(3);
    expect(inNs('ip', 'neigh', 'show', '10.0.0.2', 'dev', 'tap0')).toContain('02:00:00:00:00:02');
  });

  it('with offload: negotiates checksum and TSO offloads, and ARP + ping work through the virtio header', async () => {
    await link?.close();
    link = await openTap({ name: 'tap0', netns: NS, offload: true });
    try {
      // This kernel (6.x) takes all three; USO only where the build's headers define it.
      expect(link.offloads).toMatchObject({ vnetHdr: true, csum: true, tso4: true, tso6: true });
      expect(link.offloads.fallback).toBeNull();
      const responder = new HandResponder(link);
      link.setReceiver(responder);
      inNs('ip', 'neigh', 'flush', 'dev', 'tap0');
      const { stdout } = await run('ip', [
        'netns',
        'exec',
        NS,
        'ping',
        '-c',
        '2',
        '-i',
        '0.2',
        '-W',
        '2',
        '10.0.0.2',
      ]);
      expect(stdout).toContain('2 received');
      expect(responder.echoes).toBe(2);
    } finally {
      await link.close();
    }
    link = await openTap({ name: 'tap0', netns: NS, offload: false });
    expect(link.offloads.summary).toBe('none');
    // The carrier went down with the reader: the kernel forgot 10.0.0.2, so resolve it again
    // for the tests below (a burst to an unresolved neighbour is cut to ARP's queue).
    link.setReceiver(new HandResponder(link));
    await run('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '2', '10.0.0.2']);
  });

  it('refuses a second attach to the same interface with EBUSY, naming it', async () => {
    await expect(openTap({ name: 'tap0', netns: NS })).rejects.toMatchObject({
      code: 'EBUSY',
      message: 'interface tap0 is busy: another process is attached to it',
    });
  });

  it('explains bad names, non-TAP interfaces and missing namespaces', async () => {
    await expect(openTap({ name: 'bad/name', netns: NS })).rejects.toMatchObject({
      code: 'EINVAL',
      message: expect.stringContaining('invalid interface name'),
    });
    await expect(openTap({ name: 'a-name-that-is-too-long', netns: NS })).rejects.toMatchObject({
      code: 'EINVAL',
    });
    await expect(openTap({ name: 'lo', netns: NS })).rejects.toMatchObject({
      code: 'EINVAL',
      message: expect.stringContaining('lo: it exists but is not a single-queue TAP'),
    });
    const err = (await openTap({ name: 'tap0', netns: `${NS}-missing` }).catch(
      (e: unknown) => e,
    )) as TapError;
    expect(err.code).toBe('ENOENT');
    expect(err.message).toContain('no network namespace');
  });

  it('delivers a 500-frame kernel burst in a few batches', async () => {
    const l = link as TapLink;
    const responder = new HandResponder(l);
    l.setReceiver(responder);
    const before = l.stats();
    // Let the burst pile up in the TAP's queue (1000 frames), then read it: one wakeup drains up
    // to 256 frames, so 500 frames need 2 batches, not 500.
    l.setReading(false);
    await run('ip', [
      'netns',
      'exec',
      NS,
      '/usr/bin/python3',
      '-c',
      "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\nfor i in range(500): s.sendto(b'x'*64,('10.0.0.2',9))",
    ]);
    l.setReading(true);
    const deadline = Date.now() + 5000;
    while (responder.udpFrames < 500 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    const after = l.stats();
    expect(responder.udpFrames).toBe(500);
    expect(after.rxFrames - before.rxFrames).toBe(500);
    expect(after.rxBatches - before.rxBatches).toBeLessThanOrEqual(3);
    expect(after.rxMaxBatch).toBe(256);
  });

  it('writes a 3000-frame burst to the kernel without losing any', async () => {
    const l = link as TapLink;
    const before = kernelRxPackets();
    for (let i = 0; i < 3000; i++) expect(l.send(udpFrame(i), 0, 74)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const st = l.stats();
    expect(st.txQueueLength).toBe(0);
    expect(st.txFlushed).toBe(st.txQueued);
    expect(st.txDropped).toBe(0);
    expect(kernelRxPackets() - before).toBe(3000);
  });

  it('explains a missing tun module, a user without access, and root without CAP_NET_ADMIN', () => {
    // Child processes load the addon directly and try to create tap9 inside our namespace.
    const addon = join(import.meta.dirname, '..', '..', 'build', 'Release', 'pktstack_tap.node');
    const probe = `const m = require(${JSON.stringify(addon)});
      try { m.open({ name: 'tap9' }, () => {}); console.log('opened'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const attempt = (...wrapper: string[]): { code: string; message: string } =>
      JSON.parse(inNs(...wrapper, process.execPath, '-e', probe).trim()) as {
        code: string;
        message: string;
      };
    // No /dev/net/tun: a private mount namespace with an empty /dev/net.
    const missing = JSON.parse(
      inNs(
        'unshare',
        '--mount',
        'sh',
        '-c',
        `mount -t tmpfs none /dev/net && exec "$0" -e "$1"`,
        process.execPath,
        probe,
      ).trim(),
    ) as { code: string; message: string };
    expect(missing).toEqual({
      code: 'ENOENT',
      message: 'no /dev/net/tun: the tun kernel module is missing (modprobe tun)',
    });
    // An ordinary user cannot open /dev/net/tun (mode 0600).
    expect(attempt('setpriv', '--reuid=65534', '--regid=65534', '--clear-groups')).toEqual({
      code: 'EACCES',
      message:
        'not permitted to open a TAP device: run as root or with CAP_NET_ADMIN, or use `pktstack sandbox`',
    });
    // Root without CAP_NET_ADMIN opens the file but may not create an interface.
    expect(attempt('setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin')).toEqual({
      code: 'EPERM',
      message:
        'not permitted to create TAP device tap9: run as root or with CAP_NET_ADMIN, or use `pktstack sandbox`',
    });
  });

  it('reports a deleted interface once through onError instead of spinning', async () => {
    const errors: TapError[] = [];
    const doomed = await openTap({
      name: 'tap2',
      netns: NS,
      onError: (e) => errors.push(e as TapError),
    });
    try {
      inNs('ip', 'link', 'del', 'tap2');
      const deadline = Date.now() + 2000;
      while (errors.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 50));
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toContain('tap2 stopped');
      expect(errors[0].message).toContain('the interface was deleted');
      expect(doomed.send(udpFrame(1), 0, 74)).toBe(false);
    } finally {
      await doomed.close();
    }
  });

  it('creates a fresh TAP, sets its kernel-side IPv4 address, and removes it on close', async () => {
    const extra = await openTap({ name: 'tap1', netns: NS, mtu: 9000 });
    try {
      expect(extra.mtu).toBe(9000);
      setKernelIpv4({ name: 'tap1', address: 0x0a010001, prefixLength: 24, netns: NS });
      expect(inNs('ip', '-4', '-br', 'addr', 'show', 'tap1')).toContain('10.1.0.1/24');
    } finally {
      await extra.close();
    }
    expect(inNs('ip', 'link', 'show')).not.toContain('tap1');
  });
});
