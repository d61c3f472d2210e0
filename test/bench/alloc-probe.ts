// Run by codec-bench.test.ts in a child with --expose-gc and a large young generation: measures
// passes whose allocation is known exactly and prints the results as JSON.
import { measureAlloc } from '../../bench/codec/measure.js';

interface Pair {
  a: number;
  b: number;
}
const keep: Pair[] = [{ a: 0, b: 0 }];

/** One escaping two-field object per frame (V8 x64: 3 header words + 2 fields = 40 bytes). */
function objectPerFrame(frames: number): () => number {
  return () => {
    let s = 0;
    for (let i = 0; i < frames; i++) {
      const p = { a: i, b: s };
      keep[0] = p;
      s = (s + p.a) | 0;
    }
    return s;
  };
}

/** No allocation at all. */
function nothing(frames: number): () => number {
  return () => {
    let s = 0;
    for (let i = 0; i < frames; i++) s = (s + i) | 0;
    return s;
  };
}

/** One object every 100 frames: 0.4 B/frame, well above the noise floor. */
function rare(frames: number): () => number {
  return () => {
    let s = 0;
    for (let i = 0; i < frames; i++) {
      if (i % 100 === 0) keep[0] = { a: i, b: s };
      s = (s + i) | 0;
    }
    return s;
  };
}

const opt = { budgetBytes: 64 << 20, minFrames: 200_000, samples: 5 };
const out = {
  object: await measureAlloc(objectPerFrame, 10_000, opt),
  nothing: await measureAlloc(nothing, 10_000, opt),
  rare: await measureAlloc(rare, 10_000, opt),
};
process.stdout.write(JSON.stringify(out) + '\n');
