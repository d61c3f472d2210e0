/**
 * The small Python subset of packetdrill's `%{ }%` blocks: `assert <comparison>[, message]`
 * statements over a tcp_info snapshot, with integers, names, `&`, `|`, `+`, `-`, `*`,
 * `==`, `!=`, `<`, `<=`, `>`, `>=`, `and`, `or`. Anything else skips the script.
 */
import { DrillSkip } from './syscalls.js';

export type TcpInfo = Record<string, number>;

/** Linux's tcp_ca_state values. */
const CONSTANTS: Record<string, number> = {
  TCP_CA_Open: 0,
  TCP_CA_Disorder: 1,
  TCP_CA_CWR: 2,
  TCP_CA_Recovery: 3,
  TCP_CA_Loss: 4,
};

type Token =
  { kind: 'num'; value: number } | { kind: 'name'; name: string } | { kind: 'op'; op: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(\d+)|([A-Za-z_][A-Za-z_0-9]*)|(==|!=|<=|>=|<|>|&|\||\+|-|\*|\(|\)))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) throw new DrillSkip(`Python expression ${text.trim()}`);
    pos = re.lastIndex;
    if (m[1] !== undefined) out.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] !== undefined) out.push({ kind: 'name', name: m[2] });
    else out.push({ kind: 'op', op: m[3] });
  }
  return out;
}

const PRECEDENCE: Array<string[]> = [
  ['or'],
  ['and'],
  ['==', '!=', '<', '<=', '>', '>='],
  ['|'],
  ['&'],
  ['+', '-'],
  ['*'],
];

function evaluate(tokens: Token[], info: TcpInfo): number {
  let i = 0;
  const opAt = (): string | null => {
    const t = tokens[i];
    if (t === undefined) return null;
    if (t.kind === 'op') return t.op;
    if (t.kind === 'name' && (t.name === 'and' || t.name === 'or')) return t.name;
    return null;
  };
  const primary = (): number => {
    const t = tokens[i++];
    if (t === undefined) throw new DrillSkip('truncated Python expression');
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op' && t.op === '(') {
      const v = level(0);
      i++;
      return v;
    }
    if (t.kind === 'op' && t.op === '-') return -primary();
    if (t.kind === 'name') {
      const v = info[t.name] ?? CONSTANTS[t.name];
      if (v === undefined) throw new DrillSkip(`tcp_info field ${t.name} is not modelled`);
      return v;
    }
    throw new DrillSkip('unsupported Python expression');
  };
  const level = (n: number): number => {
    if (n === PRECEDENCE.length) return primary();
    let left = level(n + 1);
    for (;;) {
      const op = opAt();
      if (op === null || !PRECEDENCE[n].includes(op)) return left;
      i++;
      const right = level(n + 1);
      left = apply(op, left, right);
    }
  };
  const v = level(0);
  if (i !== tokens.length) throw new DrillSkip('unsupported Python expression');
  return v;
}

function apply(op: string, a: number, b: number): number {
  switch (op) {
    case 'or':
      return a !== 0 ? a : b;
    case 'and':
      return a !== 0 ? b : a;
    case '==':
      return a === b ? 1 : 0;
    case '!=':
      return a !== b ? 1 : 0;
    case '<':
      return a < b ? 1 : 0;
    case '<=':
      return a <= b ? 1 : 0;
    case '>':
      return a > b ? 1 : 0;
    case '>=':
      return a >= b ? 1 : 0;
    case '|':
      return a | b;
    case '&':
      return a & b;
    case '+':
      return a + b;
    case '-':
      return a - b;
    default:
      return a * b;
  }
}

/** Runs the block; returns null when every assert held, else the failed assert and values. */
export function evalCode(code: string, info: TcpInfo): string | null {
  const statements = code
    .replace(/\\\n/g, ' ')
    .split(/;|\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && !s.startsWith('#'));
  for (const s of statements) {
    const m = /^assert\s+(.*?)(?:,\s*(?:'[^']*'\s*%\s*)?[A-Za-z_0-9.()]+\s*)?$/.exec(s);
    if (m === null) throw new DrillSkip(`Python statement \`${s}\``);
    const tokens = tokenize(m[1]);
    if (evaluate(tokens, info) === 0) {
      const names = [
        ...new Set(
          tokens.flatMap((t) => (t.kind === 'name' && info[t.name] !== undefined ? [t.name] : [])),
        ),
      ];
      return `assert failed: ${m[1]} (${names.map((n) => `${n}=${info[n]}`).join(', ')})`;
    }
  }
  return null;
}
