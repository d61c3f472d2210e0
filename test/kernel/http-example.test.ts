/**
 * examples/http-on-tap.ts on a real TAP in a namespace of our own: the kernel's curl gets the
 * app's /hello and the status page through it. Needs root; skipped otherwise.
 */
import { type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRoot, Netns } from '../http/kernel-lab.js';

describe.skipIf(!isRoot)('examples/http-on-tap.ts', () => {
  let ns: Netns;
  let child: ChildProcess | undefined;
  let out = '';

  beforeAll(async () => {
    ns = Netns.create(`pkt-http-ex${process.pid}`);
    child = ns.spawn(process.execPath, [
      '--conditions=source',
      '--import',
      'tsx',
      'examples/http-on-tap.ts',
    ]);
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 200 && !out.includes('serving'); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 20_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGINT');
      await exited;
    }
    ns?.destroy();
  });

  it('serves the app and the status page to the kernel, and stops on SIGINT', async () => {
    expect(out).toContain('serving http://10.0.0.2/hello on tap0');
    const hello = ns.run('curl', '-sS', '--max-time', '5', 'http://10.0.0.2/hello');
    expect(hello.out).toBe('hello 10.0.0.1, this is pktstack on tap0\n');
    const status = ns.run('curl', '-sS', '--max-time', '5', 'http://10.0.0.2/status.json');
    expect(JSON.parse(status.out)).toMatchObject({ ip: '10.0.0.2' });
    const exited = new Promise<number | null>((r) => child!.once('exit', r));
    child!.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped');
  });
});
