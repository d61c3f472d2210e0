/**
 * The dispatch graph across specs: which layers FrameDecoder decodes, where a frame may start,
 * which dispatches re-enter the graph one nesting level in (tunnels), and each layer's stable id.
 * Every problem is a SpecError at the dispatch case (or layer-table line) that causes it.
 *
 * - Layers: the first message of every spec reachable from a root along the dispatch.
 * - Roots: the `root` lines of the layer table, first one first (decode() starts there; any
 *   root is an entry of decodeFrom()). Without `root` lines, the one spec that dispatches and
 *   that nothing dispatches to.
 * - Tags: a layer that dispatches to itself with exactly the table of every layer that
 *   dispatches to it (VLAN after Ethernet) is decoded in a loop at the same level.
 * - Shims: a layer that is no tag and dispatches only to layers each of its parents dispatches
 *   to itself (MPLS between Ethernet or VLAN and IPv4/IPv6) sits between a parent and that
 *   parent's own payload: its dispatch to a layer is a tunnel exactly when its parent's is.
 * - Tunnels: depth is the distance from the first root (tags do not count); a dispatch to a
 *   layer no deeper than the one dispatching (VXLAN → Ethernet, IPv4 → IPv4) starts a new
 *   nesting level there. Every other dispatch goes strictly deeper, so each level is a tree
 *   (a shim's non-tunnel dispatch lands on its parent's level, where nothing leads back to it).
 * - Layer ids (the FrameLayer bit numbers) come from the committed layer table, which only
 *   grows: a new layer is appended with the next free id (codegen rewrites the table, and
 *   `--check` reports it stale), and the line of a spec that is gone stays, so its id is
 *   never given to another layer.
 */
import { SpecError } from '../spec-error.js';
import type { DispatchModel, MessageModel, SpecModel } from './model.js';

/** Ids fit a small integer bit mask: 0..MAX_LAYER_ID. */
export const MAX_LAYER_ID = 29;

export interface GraphLayer {
  module: string;
  spec: SpecModel;
  message: MessageModel;
  /** FrameLayer bit number (bit = 2 ** id), from the layer table. */
  id: number;
  /** Dispatches from the first root to here, tags not counted. */
  depth: number;
  /** Repeats in a loop after the layer that dispatches to it (a VLAN tag). */
  tag: boolean;
  /** Sits between its parents and their payload layers (MPLS): see the file header. */
  shim: boolean;
  /** Marked `cold` in the layer table: decoded by a method of its own, not in its parent's. */
  cold: boolean;
}

export interface FrameGraph {
  /** In id order. */
  layers: GraphLayer[];
  /** Layers a frame may start at; the first is decode()'s. */
  roots: string[];
  /** Layers a tunnel's payload starts at (decoded one nesting level in). */
  tunnelTargets: string[];
  /** The dispatches that start a new nesting level, as `from>to`. */
  tunnels: string[];
  /** The layer table as it must be committed (new layers appended). */
  table: string;
  /** Layers the table did not list yet (appended to `table`). */
  added: string[];
}

export interface LayerTable {
  file: string;
  source: string;
}

interface TableLine {
  kind: 'root' | 'layer';
  name: string;
  id: number;
  /** Absolute index of the line's first character in the table. */
  pos: number;
  /** `cold` was given, and where (-1 when not). */
  coldPos: number;
}

function parseTable(t: LayerTable): TableLine[] {
  const out: TableLine[] = [];
  let at = 0;
  for (const raw of t.source.split('\n')) {
    const start = at;
    at += raw.length + 1;
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    const pos = start + raw.indexOf(line);
    const root = /^root\s+([a-z][a-z0-9_]*)$/.exec(line);
    if (root !== null) {
      out.push({ kind: 'root', name: root[1], id: -1, pos, coldPos: -1 });
      continue;
    }
    const layer = /^layer\s+([a-z][a-z0-9_]*)\s*=\s*(\d+)(?:\s+(\S.*))?$/.exec(line);
    if (layer === null) {
      throw new SpecError(
        t.file,
        t.source,
        pos,
        `expected 'layer NAME = ID', 'layer NAME = ID cold' or 'root NAME'`,
      );
    }
    const marker = layer[3] as string | undefined;
    if (marker !== undefined && marker !== 'cold') {
      throw new SpecError(
        t.file,
        t.source,
        pos + line.lastIndexOf(marker),
        `expected 'cold' or the end of the line after the layer id, not '${marker}'`,
      );
    }
    const id = Number(layer[2]);
    if (id > MAX_LAYER_ID) {
      throw new SpecError(
        t.file,
        t.source,
        pos + line.indexOf(layer[2], line.indexOf('=')),
        `layer id ${id} out of range 0..${MAX_LAYER_ID}`,
      );
    }
    const twice = out.find((x) => x.kind === 'layer' && (x.id === id || x.name === layer[1]));
    if (twice !== undefined) {
      throw new SpecError(
        t.file,
        t.source,
        pos,
        twice.name === layer[1]
          ? `layer '${layer[1]}' is listed twice`
          : `layer id ${id} is already '${twice.name}' (ids are never reused)`,
      );
    }
    out.push({
      kind: 'layer',
      name: layer[1],
      id,
      pos,
      coldPos: marker === undefined ? -1 : pos + line.lastIndexOf(marker),
    });
  }
  return out;
}

function err(spec: SpecModel, pos: number, message: string): SpecError {
  return new SpecError(spec.file, spec.source, pos, message);
}

function dispatchOf(spec: SpecModel): DispatchModel | null {
  return spec.messages[0]?.dispatch ?? null;
}

/** value:target pairs of a dispatch, to compare tables. */
function tableKey(d: DispatchModel | null): string {
  if (d === null || d.fields.length !== 1) return '';
  return d.cases
    .flatMap((c) => c.values.map((v) => `${v}:${c.target}`))
    .sort()
    .join(',');
}

export function resolveGraph(models: SpecModel[], table: LayerTable): FrameGraph | null {
  const byModule = new Map(models.map((s) => [s.module, s]));
  // Every dispatch names a spec that exists.
  for (const s of models) {
    for (const m of s.messages) {
      for (const c of m.dispatch?.cases ?? []) {
        if (!byModule.has(c.target))
          throw err(s, c.pos, `dispatch target '${c.target}' is not a spec in specs/`);
      }
      for (const r of m.regions) {
        if (r.quotes !== undefined && !byModule.has(r.quotes.module))
          throw err(s, r.quotes.pos, `quoted packet '${r.quotes.module}' is not a spec in specs/`);
      }
    }
  }
  const dispatching = models.filter((s) => dispatchOf(s) !== null);
  const lines = parseTable(table);
  if (dispatching.length === 0) return null;

  const parents = new Map<string, SpecModel[]>();
  for (const s of dispatching) {
    for (const c of dispatchOf(s)?.cases ?? []) {
      if (c.target === s.module) continue;
      parents.set(c.target, [...(parents.get(c.target) ?? []), s]);
    }
  }
  const isTag = (module: string): boolean => {
    const s = byModule.get(module);
    const d = s === undefined ? null : dispatchOf(s);
    if (d === null || !d.cases.some((c) => c.target === module)) return false;
    const ps = parents.get(module) ?? [];
    return ps.length > 0 && ps.every((p) => tableKey(dispatchOf(p)) === tableKey(d));
  };

  const isShim = (module: string): boolean => {
    const s = byModule.get(module);
    const d = s === undefined ? null : dispatchOf(s);
    const ps = parents.get(module) ?? [];
    if (d === null || ps.length === 0 || isTag(module)) return false;
    return d.cases.every(
      (c) =>
        c.target !== module &&
        ps.every((p) => (dispatchOf(p)?.cases ?? []).some((x) => x.target === c.target)),
    );
  };

  // Roots.
  let roots: string[];
  const declared = lines.filter((l) => l.kind === 'root');
  if (declared.length > 0) {
    for (const r of declared) {
      const s = byModule.get(r.name);
      if (s === undefined || dispatchOf(s) === null) {
        throw new SpecError(
          table.file,
          table.source,
          r.pos,
          `root '${r.name}' is not a spec that dispatches`,
        );
      }
    }
    roots = [...new Set(declared.map((r) => r.name))];
  } else {
    const inferred = dispatching.filter((s) => !parents.has(s.module));
    if (inferred.length > 1) {
      throw err(
        inferred[1],
        dispatchOf(inferred[1])?.pos ?? 0,
        `several dispatch roots (${inferred.map((s) => s.module).join(', ')}): name the ones a frame may start at with 'root NAME' lines in ${table.file}`,
      );
    }
    if (inferred.length === 0) {
      const s = dispatching[0];
      throw err(
        s,
        dispatchOf(s)?.pos ?? 0,
        `no dispatch root: every spec that dispatches is the target of another; name the one a frame starts at with a 'root NAME' line in ${table.file}`,
      );
    }
    roots = [inferred[0].module];
  }

  // Depth from the first root (then from each further root, for what only it reaches).
  const depth = new Map<string, number>();
  /** The dispatch case that first reached each layer (for errors about the layer). */
  const reachedBy = new Map<string, { spec: SpecModel; pos: number }>();
  for (const root of roots) {
    if (depth.has(root)) continue;
    depth.set(root, 0);
    const queue = [root];
    while (queue.length > 0) {
      const module = queue.shift() as string;
      const s = byModule.get(module) as SpecModel;
      if (isTag(module)) continue; // its cases are its parent's
      for (const c of dispatchOf(s)?.cases ?? []) {
        if (depth.has(c.target)) continue;
        depth.set(c.target, (depth.get(module) ?? 0) + 1);
        reachedBy.set(c.target, { spec: s, pos: c.pos });
        queue.push(c.target);
      }
    }
  }
  for (const s of dispatching) {
    if (!depth.has(s.module)) {
      throw err(
        s,
        dispatchOf(s)?.pos ?? 0,
        `no root reaches ${s.module}'s dispatch, so FrameDecoder would skip it: add 'root ${s.module}' to ${table.file}`,
      );
    }
  }

  // No cycle can run without end: a tag loop consumes its fixed header (every dispatching
  // message has a fixed field to dispatch on), and each tunnel is one of FRAME_MAX_DEPTH levels.
  const tunnelEdge = (from: string, to: string, seen: Set<string> = new Set()): boolean => {
    if (isTag(from) || (isTag(to) && to !== from)) return false;
    if (isShim(from) && !seen.has(from)) {
      seen.add(from);
      return (parents.get(from) ?? []).some((p) => tunnelEdge(p.module, to, seen));
    }
    return (depth.get(to) ?? 0) <= (depth.get(from) ?? 0);
  };
  const tunnelTargets = new Set<string>();
  const tunnels = new Set<string>();
  for (const [module] of depth) {
    const s = byModule.get(module) as SpecModel;
    for (const c of dispatchOf(s)?.cases ?? []) {
      if (!tunnelEdge(module, c.target)) continue;
      tunnelTargets.add(c.target);
      tunnels.add(`${module}>${c.target}`);
    }
  }

  // Ids: the table's, then the next free ones for layers it does not list, in depth order.
  const ids = new Map(lines.filter((l) => l.kind === 'layer').map((l) => [l.name, l.id]));
  let next = Math.max(-1, ...ids.values()) + 1;
  const added: string[] = [];
  const order = [...depth.keys()].sort(
    (a, b) => (depth.get(a) ?? 0) - (depth.get(b) ?? 0) || a.localeCompare(b),
  );
  for (const module of order) {
    if (ids.has(module)) continue;
    if (next > MAX_LAYER_ID) {
      const by = reachedBy.get(module);
      const s = by?.spec ?? (byModule.get(module) as SpecModel);
      throw err(
        s,
        by?.pos ?? 0,
        `too many layers: ${module} would need layer id ${next}, past the ${MAX_LAYER_ID + 1} the FrameLayer bits hold`,
      );
    }
    ids.set(module, next++);
    added.push(module);
  }
  // `cold`: decoded by a method of its own, called from every layer that dispatches to it.
  const cold = new Set<string>();
  for (const l of lines) {
    if (l.kind !== 'layer' || l.coldPos < 0 || !depth.has(l.name)) continue;
    if (l.name === roots[0]) {
      throw new SpecError(
        table.file,
        table.source,
        l.coldPos,
        `layer '${l.name}' cannot be cold: it is the first root, which decode() itself decodes`,
      );
    }
    if (isTag(l.name)) {
      throw new SpecError(
        table.file,
        table.source,
        l.coldPos,
        `layer '${l.name}' cannot be cold: it is a tag, taken in its parent's loop`,
      );
    }
    cold.add(l.name);
  }
  let text = table.source;
  if (added.length > 0) {
    if (text !== '' && !text.endsWith('\n')) text += '\n';
    text += added.map((m) => `layer ${m} = ${ids.get(m)}\n`).join('');
  }
  if (declared.length === 0) text = `root ${roots[0]}\n${text}`;

  const layers = order
    .map((module): GraphLayer => {
      const spec = byModule.get(module) as SpecModel;
      return {
        module,
        spec,
        message: spec.messages[0],
        id: ids.get(module) ?? -1,
        depth: depth.get(module) ?? 0,
        tag: isTag(module),
        shim: isShim(module),
        cold: cold.has(module),
      };
    })
    .sort((a, b) => a.id - b.id);
  return {
    layers,
    roots,
    tunnelTargets: [...tunnelTargets].sort(),
    tunnels: [...tunnels].sort(),
    table: text,
    added,
  };
}

/** True when `from`'s dispatch to `to` starts a new nesting level (see the file header). */
export function isTunnel(g: FrameGraph, from: string, to: string): boolean {
  return g.tunnels.includes(`${from}>${to}`);
}
