/**
 * `pktstack decode FILE [--json]`: every frame of a pcap / pcapng capture, one line each
 * (tcpdump-like text, or JSON objects with --json).
 *
 * Exit status: 0 when the file was read to its end (frames that fail to decode are data: they
 * are printed with their error and do not change the status); 1 when the file is missing,
 * unreadable, empty, not a capture, or damaged part-way (the frames before the damage are
 * printed first). Every such failure is one line `pktstack: FILE: reason` on stderr.
 * Frames of a non-Ethernet link type are printed with an `E_UNSUPPORTED_LINKTYPE` error each.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { CaptureDecoder } from '../../decode/capture.js';
import { frameToJSON } from '../../decode/json.js';
import { frameToText } from '../../decode/text.js';
import { PcapError, openCapture } from '../../pcap/reader.js';

export interface DecodeOptions {
  json?: boolean;
}

/** Output is handed to the stream in chunks of about this size, waiting for drain when full. */
const CHUNK_BYTES = 64 * 1024;

/** Buffers lines and writes them in chunks, honouring back-pressure; stops on EPIPE. */
class LineWriter {
  private parts: string[] = [];
  private size = 0;
  closed = false;

  constructor(private readonly out: Writable) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      // A reader that went away (`| head`) is not an error of ours: stop writing.
      if (err.code === 'EPIPE') this.closed = true;
      else throw err;
    });
  }

  async line(s: string): Promise<void> {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= CHUNK_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0 || this.closed) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.size = 0;
    if (this.out.write(chunk)) return;
    try {
      await Promise.race([once(this.out, 'drain'), once(this.out, 'close')]);
    } catch (err) {
      // once() rejects when the stream emits 'error' while we wait: EPIPE means stop writing.
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') this.closed = true;
      else throw err;
    }
  }
}

function reason(err: unknown): string {
  if (err instanceof PcapError) return err.message;
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
      return 'permission denied';
    default:
      return e instanceof Error ? e.message : String(err);
  }
}

/** Runs the command; returns the exit status. */
export async function runDecode(
  file: string,
  opts: DecodeOptions,
  stdout: Writable,
  stderr: Writable,
): Promise<number> {
  const fail = (err: unknown): number => {
    stderr.write(`pktstack: ${file}: ${reason(err)}\n`);
    return 1;
  };
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    return fail(err);
  }
  const out = new LineWriter(stdout);
  const decoder = new CaptureDecoder();
  try {
    const capture = openCapture(bytes);
    for (const rec of capture) {
      if (out.closed) break;
      decoder.decode(rec.bytes, rec.linkType, rec.origLen);
      const line =
        opts.json === true
          ? JSON.stringify(frameToJSON(decoder, rec.index + 1))
          : frameToText(decoder, rec, rec.origLen);
      await out.line(line);
    }
  } catch (err) {
    await out.flush();
    if (err instanceof PcapError) return fail(err);
    throw err;
  }
  await out.flush();
  return 0;
}

export function register(program: Command): void {
  program
    .command('decode')
    .description('decode every frame of a pcap or pcapng capture (Ethernet link type)')
    .argument('<file>', 'capture file')
    .option('--json', 'one JSON object per frame: {"frame":N,"layers":{...},"error":null}')
    .action(async (file: string, opts: DecodeOptions) => {
      process.exitCode = await runDecode(file, opts, process.stdout, process.stderr);
    });
}
