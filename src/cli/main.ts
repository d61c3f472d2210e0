#!/usr/bin/env node
/**
 * The `pktstack` command. Each subcommand lives in src/cli/commands/<name>.ts and exports a
 * `register(program)` function; this file only assembles them, so commands stay independent.
 */
import { Command } from 'commander';
import { commands } from './commands/index.js';

const program = new Command();
program
  .name('pktstack')
  .description('Packet codecs generated from a DSL, and a user-space TCP/IP stack on a TAP device')
  .showHelpAfterError();

for (const register of commands) register(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  // Commands report their own expected failures; anything reaching here is still one line.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`pktstack: ${message}\n`);
  process.exitCode = 1;
});
