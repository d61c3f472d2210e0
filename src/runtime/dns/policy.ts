/**
 * The retry policy, kept pure so it can be read and tested on its own: which server each try
 * goes to and how long it waits. Every round asks each configured server once, in order; the
 * wait doubles each round (as c-ares does), so a slow server gets a fairer second chance.
 */

export interface Try {
  /** Index into the server list. */
  server: number;
  timeoutMs: number;
}

export function trySchedule(serverCount: number, rounds: number, timeoutMs: number): Try[] {
  const tries: Try[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let server = 0; server < serverCount; server++) {
      tries.push({ server, timeoutMs: timeoutMs * 2 ** round });
    }
  }
  return tries;
}

/** IANA's dynamic port range (RFC 6335), where random source ports are drawn from. */
export const EPHEMERAL_FIRST = 49152;
export const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;
