/**
 * Smoke test of the lwIP peer for bench:stack: it builds against Debian's liblwip, comes up on a
 * TAP in a namespace of this test's own, answers pings of 1400 bytes (past the ~600-byte point
 * where Debian's own TAP driver breaks) and takes 1 MB over TCP into its discard server.
 * Root only (namespace + TAP); skips itself otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableParallelism } from 'node:os';
import { Lab, STACK_IP } from '../../bench/stack/lab.js';
import { buildLwipPeer, startLwipPeer, type LwipPeer } from '../../bench/stack/peers.js';

const isRoot = process.getuid?.() === 0;
const cpus = `0-${availableParallelism() - 1}`;

class TestLab extends Lab {
  override readonly ns = `pkt-peers-test-${process.pid}`;
}

describe.skipIf(!isRoot)('lwIP peer on a TAP (root: namespace + TAP)', () => {
  const lab = new TestLab({ responderCpus: cpus, clientCpus: cpus });
  let peer: LwipPeer | undefined;

  beforeAll(async () => {
    const binary = buildLwipPeer();
    lab.up();
    peer = await startLwipPeer(lab, binary);
  });

  afterAll(async () => {
    await peer?.responder.stop();
    lab.down();
  });

  it('reports the liblwip options it was built with', () => {
    expect(peer?.ready).toMatchObject({ event: 'ready', ip: STACK_IP, tcp_mss: 1460 });
  });

  it('answers ping with frames past 600 bytes', () => {
    const out = lab.client('ping', [
      '-n',
      '-c',
      '3',
      '-i',
      '0.05',
      '-W',
      '2',
      '-s',
      '1400',
      STACK_IP,
    ]);
    expect(out).toMatch(/3 received/);
    expect(out).toMatch(/1408 bytes from 10\.0\.0\.2/);
  });

  it('receives 1 MB over TCP into the discard server, every byte counted', async () => {
    lab.client('socat', ['-u', 'OPEN:/dev/zero,readbytes=1000000', `TCP:${STACK_IP}:9`]);
    const done = await peer!.next('discard', 10_000);
    expect(done.bytes).toBe(1_000_000);
    expect(done.seconds).toBeGreaterThan(0);
  });
});

describe.skipIf(isRoot)('lwIP peer (skipped)', () => {
  it('needs root for a network namespace and a TAP', () => {
    expect(isRoot).toBe(false);
  });
});
