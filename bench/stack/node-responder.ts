/**
 * The C responder's header swap, in Node on the same TAP addon the stack uses: the floor for any
 * Node process on this TAP, so the bench can tell the stack's own cost from Node's wakeup and
 * N-API costs. The TapLink is the compiled one from dist/; this file runs under tsx, whose
 * start-up is over before the first frame is measured.
 *
 *   node --import tsx bench/stack/node-responder.ts DIST TAPNAME
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type TapModule = typeof import('../../src/runtime/link/tap.js');

const [dist, name] = process.argv.slice(2);
const { openTap } = (await import(
  pathToFileURL(join(dist, 'src/runtime/link/tap.js')).href
)) as TapModule;

const IP = [10, 0, 0, 2];
// Plain frames, as the C responder reads them: a header swap echoes whatever checksum arrived,
// and with checksum offload that is only the pseudo-header's.
const link = await openTap({ name, offload: false });
const mac = new Uint8Array(6);
for (let i = 0, m = link.mac; i < 6; i++) {
  mac[5 - i] = m % 256;
  m = Math.floor(m / 256);
}

function isOurIp(f: Uint8Array, o: number): boolean {
  return f[o] === IP[0] && f[o + 1] === IP[1] && f[o + 2] === IP[2] && f[o + 3] === IP[3];
}

function swap(f: Uint8Array, a: number, b: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const t = f[a + i];
    f[a + i] = f[b + i];
    f[b + i] = t;
  }
}

link.setReceiver({
  receive(f: Uint8Array, o: number, n: number): void {
    if (n < 42) return;
    const type = (f[o + 12] << 8) | f[o + 13];
    if (type === 0x0806) {
      const a = o + 14;
      if (f[a + 7] !== 1 || !isOurIp(f, a + 24)) return;
      f[a + 7] = 2;
      for (let i = 0; i < 10; i++) f[a + 18 + i] = f[a + 8 + i];
      for (let i = 0; i < 6; i++) f[a + 8 + i] = mac[i];
      for (let i = 0; i < 4; i++) f[a + 14 + i] = IP[i];
      for (let i = 0; i < 6; i++) f[o + i] = f[o + 6 + i];
      for (let i = 0; i < 6; i++) f[o + 6 + i] = mac[i];
    } else if (type === 0x0800) {
      const h = o + 14;
      const l4 = h + (f[h] & 15) * 4;
      if (!isOurIp(f, h + 16) || l4 + 8 > o + n) return;
      if (f[h + 9] === 1 && f[l4] === 8) {
        f[l4] = 0;
        let sum = ((~((f[l4 + 2] << 8) | f[l4 + 3]) & 0xffff) + (~0x0800 & 0xffff)) >>> 0;
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = ~((sum & 0xffff) + (sum >>> 16)) & 0xffff;
        f[l4 + 2] = sum >>> 8;
        f[l4 + 3] = sum & 0xff;
      } else if (f[h + 9] === 17) {
        swap(f, l4, l4 + 2, 2);
      } else {
        return;
      }
      swap(f, h + 12, h + 16, 4);
      swap(f, o, o + 6, 6);
    } else {
      return;
    }
    link.send(f, o, n);
  },
  batchEnd(): void {},
});
process.once('SIGTERM', () => void link.close());
process.stdout.write('ready\n');
