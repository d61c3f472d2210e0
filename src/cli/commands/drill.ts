/**
 * `pktstack drill FILE.pkt...`: runs packetdrill scripts in-process on a virtual clock (see
 * src/drill/) and prints one line per script: `pass FILE`, `fail FILE:LINE: reason` followed by
 * the script line with a caret and the actual packet, or `skip FILE: reason`.
 *
 * Exit status: 0 when every script that ran passed, 1 when one failed (a parse error or an
 * unreadable file counts as a failure), 2 when all were skipped.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { DrillParseError, parseDrill } from '../../drill/parse.js';
import { runDrill, type DrillOutcome } from '../../drill/run.js';

export interface DrillCommandOptions {
  toleranceUsecs?: string;
  verbose?: boolean;
}

/** Runs each file; returns the exit status. */
export async function drillFiles(
  files: string[],
  options: DrillCommandOptions,
  write: (line: string) => void,
): Promise<number> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const tolerance =
    options.toleranceUsecs === undefined ? undefined : Number(options.toleranceUsecs);
  if (tolerance !== undefined && !(tolerance >= 0)) {
    write(`pktstack: --tolerance-usecs ${options.toleranceUsecs}: not a number of microseconds`);
    return 1;
  }
  for (const file of files) {
    let outcome: DrillOutcome;
    try {
      const script = parseDrill(await readFile(file, 'utf8'), file);
      outcome = runDrill(script, { toleranceUsecs: tolerance });
    } catch (e) {
      const detail =
        e instanceof DrillParseError
          ? e.format()
          : `${file}: ${e instanceof Error ? e.message : String(e)}`;
      outcome = { status: 'fail', reason: detail.split('\n')[0], detail, line: null };
    }
    if (outcome.status === 'pass') {
      passed++;
      write(`pass ${file}`);
    } else if (outcome.status === 'skip') {
      skipped++;
      write(`skip ${file}: ${outcome.reason}`);
    } else {
      failed++;
      write(`fail ${file}${outcome.line === null ? '' : `:${outcome.line}`}: ${outcome.reason}`);
      if (outcome.detail !== '') write(outcome.detail.replace(/^/gm, '  '));
    }
  }
  write(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (failed > 0) return 1;
  if (passed === 0 && skipped > 0) return 2;
  return 0;
}

export function register(program: Command): void {
  program
    .command('drill')
    .description('run packetdrill scripts against the stack, in-process on a virtual clock')
    .argument('<files...>', 'packetdrill scripts (.pkt)')
    .option('--tolerance-usecs <n>', "timing tolerance (default: the script's, else 4000)")
    .action(async (files: string[], options: DrillCommandOptions) => {
      process.exitCode = await drillFiles(files, options, (line) =>
        process.stdout.write(line + '\n'),
      );
    });
}
