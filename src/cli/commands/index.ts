import type { Command } from 'commander';
import { register as registerCurl } from './curl.js';
import { register as registerDecode } from './decode.js';
import { register as registerDemo } from './demo.js';
import { register as registerDrill } from './drill.js';
import { register as registerResolve } from './resolve.js';
import { register as registerRun } from './run.js';
import { register as registerSandbox } from './sandbox.js';

/** Every subcommand's register function, in the order `pktstack --help` lists them. */
export const commands: Array<(program: Command) => void> = [
  registerDecode,
  registerResolve,
  registerRun,
  registerCurl,
  registerDemo,
  registerDrill,
  registerSandbox,
];
