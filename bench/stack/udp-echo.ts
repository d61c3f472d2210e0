/** UDP echo rate: the C load generator keeps a window of datagrams in flight for a few seconds. */
import { compileC, STACK_IP, type Lab } from './lab.js';
import { UDP_ECHO_PORT } from './targets.js';

export interface UdpEchoResult {
  sent: number;
  received: number;
  seconds: number;
  /** Echoes received per second. */
  rate: number;
}

let loader: string | undefined;

export function measureUdpEcho(lab: Lab, size = 64, window = 32, seconds = 3): UdpEchoResult {
  loader ??= compileC('udpload');
  const out = lab.client(loader, [
    STACK_IP,
    String(UDP_ECHO_PORT),
    String(size),
    String(window),
    String(seconds),
  ]);
  return JSON.parse(out.trim()) as UdpEchoResult;
}
