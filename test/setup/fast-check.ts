/**
 * Every property runs with a fixed seed, so a run is reproducible and a failure in CI is the
 * same failure on a laptop. FC_SEED picks another seed for exploring (fast-check prints the
 * seed and path of any counterexample it finds); properties that pass their own seed keep it.
 */
import fc from 'fast-check';

const seed = process.env.FC_SEED === undefined ? 20261203 : Number(process.env.FC_SEED);
if (!Number.isSafeInteger(seed))
  throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
