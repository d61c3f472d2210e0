// Loads the benchmark corpus (a classic pcap of Ethernet frames) into one contiguous buffer, so
// every contender decodes the very same bytes, and regenerates it with Debian's python3-scapy
// (bench/corpus/generate.py) when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LINKTYPE_ETHERNET, PcapError, openCapture } from '../../src/pcap/reader.js';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const DEFAULT_CORPUS = join(BENCH_DIR, 'corpus', 'corpus.pcap');
export const GENERATOR = join(BENCH_DIR, 'corpus', 'generate.py');
/** scapy comes from Debian (python3-scapy), not from the pyenv python3 that may be first on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export interface Corpus {
  /** All frames back to back; a Node Buffer because node_pcap's decoders need Buffer methods. */
  readonly bytes: Buffer;
  /** Start of frame i in `bytes`. */
  readonly offsets: Int32Array;
  /** Captured length of frame i. */
  readonly lengths: Int32Array;
  /** Frame i as its own zero-copy Buffer view (for peers whose API takes one buffer per frame). */
  readonly frames: readonly Buffer[];
  readonly count: number;
}

function why(e: unknown): string {
  if (e instanceof PcapError) return `${e.message} (${e.code} at byte ${e.offset})`;
  return e instanceof Error ? e.message : String(e);
}

/** Runs generate.py unless `path` exists; throws with the generator's stderr on failure. */
export function ensureCorpus(path: string, count?: number, seed?: number): void {
  if (existsSync(path)) return;
  const args = [GENERATOR, '--out', path];
  if (count !== undefined) args.push('--count', String(count));
  if (seed !== undefined) args.push('--seed', String(seed));
  const r = spawnSync(SYSTEM_PYTHON, args, { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) {
    const why = r.error?.message ?? r.stderr.trim();
    throw new Error(`corpus generation failed (${SYSTEM_PYTHON} ${args.join(' ')}): ${why}`);
  }
}

/** True when `path` is missing or older than generate.py (the generator changed since). */
export function corpusIsStale(path: string): boolean {
  return !existsSync(path) || statSync(path).mtimeMs < statSync(GENERATOR).mtimeMs;
}

/**
 * Reads a capture (pcap or pcapng, either byte order; src/pcap/reader.ts) of Ethernet frames. The frames are copied into
 * one fresh buffer (not the file buffer, which Node may hand out from a shared pool) so that all
 * contenders see identically aligned memory.
 */
export function loadCorpus(path: string, limit = Infinity): Corpus {
  const file = readFileSync(path);
  let capture;
  try {
    capture = openCapture(file);
  } catch (e) {
    throw new Error(`${path}: ${why(e)}`);
  }
  if (capture.linkType !== LINKTYPE_ETHERNET)
    throw new Error(`${path}: link type ${capture.linkType} is not Ethernet`);
  const starts: number[] = [];
  const lens: number[] = [];
  let total = 0;
  try {
    for (const r of capture) {
      if (starts.length >= limit) break;
      starts.push(r.bytes.byteOffset - file.byteOffset);
      lens.push(r.caplen);
      total += r.caplen;
    }
  } catch (e) {
    throw new Error(`${path}: ${why(e)}`);
  }
  if (starts.length === 0) throw new Error(`${path}: no frames`);

  const bytes = Buffer.alloc(total);
  const offsets = new Int32Array(starts.length);
  const lengths = new Int32Array(starts.length);
  const frames: Buffer[] = [];
  let o = 0;
  for (let i = 0; i < starts.length; i++) {
    file.copy(bytes, o, starts[i], starts[i] + lens[i]);
    offsets[i] = o;
    lengths[i] = lens[i];
    frames.push(bytes.subarray(o, o + lens[i]));
    o += lens[i];
  }
  return { bytes, offsets, lengths, frames, count: starts.length };
}
