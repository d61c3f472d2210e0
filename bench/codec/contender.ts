// What a benchmark contender provides. Each contender runs in its own child process, so the
// harness loops that call these stay monomorphic and one contender's garbage or JIT state never
// slows another.
import type { Corpus } from './corpus.js';

export interface Contender {
  readonly name: string;
  /** One pass of the decode workload (workload.ts) over every frame; returns the checksum. */
  decodePass(corpus: Corpus): number;
  /** The encode workload, or null when this library cannot encode. */
  readonly encode: Encoder | null;
  /** Printed under the table: what this contender does differently, if anything. */
  readonly note?: string;
}

export interface Encoder {
  /** Writes encode-workload frame i at offset 0 of `out`; returns the number of bytes written. */
  encodeFrame(i: number, out: Uint8Array): number;
}

/** Prepares a contender (compiling schemas, loading modules); not timed. */
export type ContenderFactory = () => Promise<Contender>;
