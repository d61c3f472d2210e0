/**
 * A parsed packetdrill script. Times are integer microseconds; `index` is the character offset
 * of the event in the source (for `file:line:col` reports), `line` its 1-based line.
 */

export interface DrillScript {
  file: string;
  source: string;
  /** `--name=value` header lines (value '' when absent), in order. */
  options: Array<{ name: string; value: string; line: number }>;
  /** `-D NAME=value` header lines. */
  defines: Array<{ name: string; value: string; line: number }>;
  events: DrillEvent[];
}

export type TimePoint = { relative: boolean; usecs: number };

export type DrillTime =
  | { kind: 'any' }
  | { kind: 'point'; at: TimePoint }
  | { kind: 'range'; from: TimePoint; to: TimePoint };

export interface DrillEvent {
  line: number;
  index: number;
  time: DrillTime;
  action: DrillAction;
}

export type DrillAction = PacketAction | IcmpAction | SyscallAction | CommandAction | CodeAction;

export interface IcmpAction {
  type: 'icmp';
  direction: '<' | '>';
  /** `unreachable frag_needed`, `packet_too_big`, ... */
  words: string[];
  mtu: number | null;
  /** The quoted segment's seq:end(len), when written. */
  quote: [number, number, number] | null;
}

export type TcpOptionSpec =
  | { kind: 'nop' }
  | { kind: 'eol' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackOK' }
  | { kind: 'sack'; blocks: Array<[number, number]> }
  | { kind: 'ts'; val: number; ecr: number }
  | { kind: 'fo'; cookie: string }
  | { kind: 'foexp'; cookie: string }
  | { kind: 'md5'; digest: string };

export interface PacketAction {
  type: 'packet';
  /** '<' inbound (the script sends it to the stack), '>' outbound (the stack must send it). */
  direction: '<' | '>';
  /** The `[...]` IP information (`ect0`, `ce`, `noecn`, `tos 0x..`), verbatim. */
  ipInfo: string | null;
  /** Flag letters as written ('' for `-`). */
  flags: string;
  seq: number;
  end: number;
  length: number;
  ack: number | null;
  win: number | null;
  urg: number | null;
  /** null: no options written; 'any': `<...>`. */
  options: TcpOptionSpec[] | 'any' | null;
}

export type DrillExpr =
  | { kind: 'ellipsis' }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ident'; name: string }
  | { kind: 'array'; items: DrillExpr[] }
  | { kind: 'struct'; fields: Array<{ name: string | null; value: DrillExpr }> }
  | { kind: 'call'; name: string; args: DrillExpr[] }
  | { kind: 'binary'; op: string; left: DrillExpr; right: DrillExpr }
  | { kind: 'unary'; op: string; operand: DrillExpr };

export interface SyscallAction {
  type: 'syscall';
  name: string;
  args: DrillExpr[];
  result: DrillExpr;
  errno: string | null;
  note: string | null;
  /** `+t...end`: the call blocks until this time (microseconds, relative to the start). */
  blockingUntil: number | null;
}

export interface CommandAction {
  type: 'command';
  command: string;
}

export interface CodeAction {
  type: 'code';
  code: string;
}
