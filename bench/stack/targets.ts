/**
 * What the scenarios measure: our stack (`pktstack run` from the compiled build, so tsx's
 * start-up and transpiling are not in the numbers) and the C responder that only swaps headers,
 * the practical limit for a user-space process on a TAP.
 */
import { join } from 'node:path';
import { compileC, ROOT, STACK_IP, type Lab, type Responder } from './lab.js';

export interface Target {
  name: string;
  start(lab: Lab): Promise<Responder>;
}

export const UDP_ECHO_PORT = 7;

export function stackTarget(): Target {
  return {
    name: 'pktstack',
    start: (lab) =>
      lab.startResponder(
        process.execPath,
        [
          join(ROOT, 'dist', 'src', 'cli', 'main.js'),
          'run',
          '--tap',
          'tap0',
          '--ip',
          `${STACK_IP}/24`,
          '--udp-echo',
          String(UDP_ECHO_PORT),
          '--log',
          'json',
        ],
        (line) => line.includes('"event":"up"'),
      ),
  };
}

/** The same header swap in Node on the TapLink: what any Node process pays before any stack. */
export function nodeSwapTarget(): Target {
  return {
    name: 'Node swap',
    start: (lab) =>
      lab.startResponder(
        process.execPath,
        [
          '--import',
          'tsx',
          join(ROOT, 'bench', 'stack', 'node-responder.ts'),
          join(ROOT, 'dist'),
          'tap0',
        ],
        (line) => line === 'ready',
      ),
  };
}

export function responderTarget(): Target {
  const binary = compileC('responder');
  return {
    name: 'C responder',
    start: (lab) =>
      lab.startResponder(
        binary,
        ['tap0', STACK_IP, '02:00:00:00:00:02'],
        (line) => line === 'ready',
      ),
  };
}
