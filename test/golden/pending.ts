/**
 * What the golden tests cannot compare yet, named and counted: for each rule, every frame it
 * covers, per capture (`1-3,7` = frames 1, 2, 3 and 7). golden.test.ts checks that the frames a
 * rule covers are exactly these, so the table can only shrink: when a layer starts decoding, its
 * frames are compared in full (and must agree with tshark) and must be removed here; a frame that
 * is not listed can never become pending. A rule is
 * - a tshark layer key (`ipv6`, `mpls`, `gre`, `inner` = a tunnel's payload, `inner.vxlan` = a
 *   layer inside one): the first layer of the frame that CaptureDecoder has no decoder for;
 *   what lies beyond it is not compared;
 * - `layer.part` (compare.ts PENDING_PARTS): part of a layer we decode that the DSL cannot
 *   declare yet; the rest of the frame is compared.
 *
 * `GOLDEN_PENDING_OUT=FILE npx vitest run test/golden/golden.test.ts` writes the table found.
 */
export interface PendingRule {
  /** Where the missing decoder is asked for. */
  issue: string;
  /** Capture file → frame numbers. */
  frames: Record<string, string>;
}

/** Frame numbers `1-3,7` → ['NAME#1', 'NAME#2', 'NAME#3', 'NAME#7'] for every capture. */
export function frameList(frames: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [file, spec] of Object.entries(frames).sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const part of spec.split(',')) {
      const [from, to] = part.split('-').map(Number);
      for (let n = from; n <= (to ?? from); n++) out.push(`${file}#${n}`);
    }
  }
  return out;
}

/** The inverse of frameList, for GOLDEN_PENDING_OUT. */
export function frameRanges(frames: string[]): Record<string, string> {
  const byFile: Record<string, number[]> = {};
  for (const f of frames) {
    const [file, n] = f.split('#');
    (byFile[file] ??= []).push(Number(n));
  }
  const out: Record<string, string> = {};
  for (const file of Object.keys(byFile).sort()) {
    const ns = byFile[file].sort((a, b) => a - b);
    const parts: string[] = [];
    for (let i = 0; i < ns.length; i++) {
      let j = i;
      while (j + 1 < ns.length && ns[j + 1] === ns[j] + 1) j++;
      parts.push(i === j ? `${ns[i]}` : `${ns[i]}-${ns[j]}`);
      i = j;
    }
    out[file] = parts.join(',');
  }
  return out;
}

export const NOT_YET_DECODED: Record<string, PendingRule> = {};
