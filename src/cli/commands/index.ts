import type { Command } from 'commander';

/** Every subcommand's register function, in the order `pktstack --help` lists them. */
export const commands: Array<(program: Command) => void> = [];
