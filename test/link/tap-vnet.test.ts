import { closeSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { virtio } from '../../src/generated/index.js';
import { frameSocketPair, openFrameFd, TapLink } from '../../src/runtime/link/tap.js';
import type { NativeDevice, TapAddon } from '../../src/runtime/link/native.js';
import { FrameMeta } from '../../src/runtime/link/offload.js';

// The virtio-net header path of the TAP link (IFF_VNET_HDR), over a SOCK_SEQPACKET socketpair:
// one end parses and writes headers as on a TAP opened with `offload`, the other is plain and
// so sees (and makes) the raw bytes a kernel would.

const { TunOffload, VirtioNetFlags, VirtioGsoType } = virtio;
const HDR = virtio.VIRTIONETHDR_FIXED_SIZE;
const open: TapLink[] = [];
afterEach(async () => {
  for (const link of open.splice(0)) await link.close();
});

function pair(flags: number): { vnet: TapLink; raw: TapLink } {
  const [fa, fb] = frameSocketPair();
  const vnet = openFrameFd({
    fd: fa,
    mtu: 1500,
    mac: 0x020000000001,
    vnetHdr: true,
    offloadFlags: flags,
  });
  const raw = openFrameFd({ fd: fb, mtu: 65521, mac: 0x020000000002 });
  open.push(vnet, raw);
  return { vnet, raw };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

function frame(length: number, fill: number): Uint8Array {
  const f = new Uint8Array(length);
  f.fill(fill);
  f[12] = 0x88;
  f[13] = 0xb5;
  return f;
}

describe('TAP link with a virtio-net header', () => {
  it('reports the offloads of its TUN_F_* flags', () => {
    const { vnet, raw } = pair(TunOffload.Csum | TunOffload.Tso4 | TunOffload.Tso6);
    expect(vnet.offloads).toMatchObject({ vnetHdr: true, csum: true, tso4: true, tso6: true });
    expect(vnet.offloads.summary).toBe('vnet-hdr csum tso4 tso6');
    expect(vnet.offloads.fallback).toBeNull();
    expect(raw.offloads.summary).toBe('none');
  });

  it('takes the header off each received frame into rxMeta, valid during receive()', async () => {
    const { vnet, raw } = pair(TunOffload.Csum | TunOffload.Tso4);
    const seen: Array<{ length: number; first: number; meta: FrameMeta; same: boolean }> = [];
    vnet.setReceiver({
      receive(bytes, offset, length) {
        const meta = new FrameMeta();
        meta.copyFrom(vnet.rxMeta);
        seen.push({ length, first: bytes[offset], meta, same: vnet.rxMeta.bytes === bytes });
      },
      batchEnd() {},
    });
    // A TCPv4 GSO frame with a partial checksum, as the kernel writes one: header, then frame.
    const big = 20_000;
    const wire = new Uint8Array(HDR + big);
    const meta = new FrameMeta();
    meta.flags = VirtioNetFlags.NeedsCsum;
    meta.gsoType = VirtioGsoType.TcpV4;
    meta.gsoSize = 1448;
    meta.hdrLen = 66;
    meta.csumStart = 34;
    meta.csumOffset = 16;
    meta.writeTo(wire, 0);
    wire.set(frame(big, 0xab), HDR);
    expect(raw.send(wire, 0, wire.length)).toBe(true);
    // A plain frame: an all-zero header.
    const small = new Uint8Array(HDR + 60);
    small.set(frame(60, 0xcd), HDR);
    expect(raw.send(small, 0, small.length)).toBe(true);
    await until(() => seen.length === 2, 'two frames');
    expect(seen[0]).toMatchObject({ length: big, first: 0xab, same: true });
    expect(seen[0].meta).toMatchObject({
      flags: 1,
      gsoType: 1,
      gsoSize: 1448,
      hdrLen: 66,
      csumStart: 34,
      csumOffset: 16,
    });
    expect(seen[1]).toMatchObject({ length: 60, first: 0xcd, same: true });
    expect(seen[1].meta).toMatchObject({ flags: 0, gsoType: 0, gsoSize: 0 });
    // Cleared once the frame was handled.
    expect(vnet.rxMeta.bytes).toBeNull();
    expect(vnet.stats()).toMatchObject({ rxFrames: 2, rxBytes: big + 60, rxBadVnetHdr: 0 });
  });

  it('drops (and counts) a message too short for the header', async () => {
    const [fa, fb] = frameSocketPair();
    const vnet = openFrameFd({ fd: fa, mtu: 1500, mac: 2, vnetHdr: true, offloadFlags: 1 });
    open.push(vnet);
    let got = 0;
    vnet.setReceiver({ receive: () => got++, batchEnd() {} });
    try {
      writeSync(fb, new Uint8Array(HDR - 1));
      writeSync(fb, new Uint8Array(HDR + 60));
      await until(() => got === 1, 'the whole frame');
    } finally {
      closeSync(fb);
    }
    expect(vnet.stats().rxBadVnetHdr).toBe(1);
  });

  it('puts a zero header in front of each frame it sends', async () => {
    const { vnet, raw } = pair(TunOffload.Csum);
    const got: Uint8Array[] = [];
    raw.setReceiver({
      receive: (bytes, offset, length) => got.push(bytes.slice(offset, offset + length)),
      batchEnd() {},
    });
    expect(vnet.send(frame(100, 0x5a), 0, 100)).toBe(true);
    await until(() => got.length === 1, 'the frame');
    expect(got[0].length).toBe(HDR + 100);
    expect([...got[0].subarray(0, HDR)]).toEqual(new Array<number>(HDR).fill(0));
    expect(got[0][HDR]).toBe(0x5a);
  });
});

describe('offload negotiation as the addon reports it', () => {
  function fakeDevice(over: Partial<NativeDevice>): TapLink {
    const addon = { close: () => undefined } as unknown as TapAddon;
    const device: NativeDevice = {
      handle: {} as NativeDevice['handle'],
      buffer: new ArrayBuffer(4096 + 8 + 64),
      name: 'tap9',
      kernelMac: 0x020000000001,
      mtu: 1500,
      rxSlots: 1,
      slotSize: 2048,
      rxBytes: 4096,
      txHeaderOffset: 4104,
      txSlots: 1,
      fd: -1,
      vnetHdrSize: 0,
      offloadFlags: 0,
      offloadAttempts: [],
      ...over,
    };
    return new TapLink(addon, () => device, undefined);
  }

  it('names each refusal and what was kept: TSO refused, checksum kept', () => {
    const link = fakeDevice({
      vnetHdrSize: HDR,
      offloadFlags: TunOffload.Csum,
      offloadAttempts: [
        { flags: TunOffload.Csum | TunOffload.Tso4 | TunOffload.Tso6, error: 'EINVAL' },
        { flags: TunOffload.Csum, error: '' },
      ],
    });
    expect(link.offloads).toMatchObject({ vnetHdr: true, csum: true, tso4: false, tso6: false });
    expect(link.offloads.summary).toBe('vnet-hdr csum');
    expect(link.offloads.fallback).toBe(
      'TUNSETOFFLOAD csum|tso4|tso6 refused (EINVAL): using csum',
    );
  });

  it('everything refused: no virtio header at all', () => {
    const link = fakeDevice({
      offloadAttempts: [
        { flags: TunOffload.Csum | TunOffload.Tso4 | TunOffload.Tso6, error: 'EINVAL' },
        { flags: TunOffload.Csum, error: 'EINVAL' },
      ],
    });
    expect(link.offloads.summary).toBe('none');
    expect(link.offloads.vnetHdr).toBe(false);
    expect(link.offloads.fallback).toBe(
      'TUNSETOFFLOAD csum|tso4|tso6 refused (EINVAL), TUNSETOFFLOAD csum refused (EINVAL): no offloads',
    );
    const kernel = fakeDevice({ offloadAttempts: [{ flags: 0, error: 'EINVAL' }] });
    expect(kernel.offloads.fallback).toBe('IFF_VNET_HDR refused (EINVAL): no offloads');
  });

  it('without offload asked, nothing is reported', () => {
    expect(fakeDevice({}).offloads).toMatchObject({ summary: 'none', fallback: null });
  });
});
