/** UDP echo rate: the C load generator keeps a window of datagrams in flight for a few seconds. */
import { compileC, STACK_IP, type Lab, type Responder } from './lab.js';
import { UDP_ECHO_PORT } from './targets.js';

export interface UdpEchoResult {
  sent: number;
  received: number;
  seconds: number;
  /** Echoes received per second. */
  rate: number;
  /**
   * CPU time the responder spent per echoed datagram (µs): unlike the rate, this hardly depends
   * on what else the machine is running at the time.
   */
  cpuUsPerEcho: number;
}

let loader: string | undefined;

export function measureUdpEcho(
  lab: Lab,
  responder: Responder,
  size = 64,
  window = 32,
  seconds = 3,
): UdpEchoResult {
  loader ??= compileC('udpload');
  // A short first run lets V8 optimize the UDP path before the measured one.
  lab.client(loader, [STACK_IP, String(UDP_ECHO_PORT), String(size), String(window), '0.5']);
  const cpuBefore = responder.cpuNs();
  const out = lab.client(loader, [
    STACK_IP,
    String(UDP_ECHO_PORT),
    String(size),
    String(window),
    String(seconds),
  ]);
  const cpu = responder.cpuNs() - cpuBefore;
  const result = JSON.parse(out.trim()) as Omit<UdpEchoResult, 'cpuUsPerEcho'>;
  return { ...result, cpuUsPerEcho: cpu / 1000 / result.received };
}
