// The contenders, in the order the table prints them. Each module is loaded only inside the child
// process that measures it.
import type { ContenderFactory } from '../contender.js';

export const CONTENDERS: Readonly<Record<string, ContenderFactory>> = {
  pktstack: async () => (await import('./pktstack.js')).create(),
  limit: async () => (await import('./limit.js')).create(),
  'binary-parser': async () => (await import('./binary-parser.js')).create(),
  restructure: async () => (await import('./restructure.js')).create(),
  node_pcap: async () => (await import('./node-pcap.js')).create(),
  kaitai: async () => (await import('./kaitai.js')).create(),
};

export const CONTENDER_NAMES: readonly string[] = Object.keys(CONTENDERS);
