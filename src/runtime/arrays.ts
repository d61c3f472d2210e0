/**
 * Empties `a` and keeps its backing store. `a.length = 0` makes V8 drop the store, so the next
 * push allocates a new one: on a queue refilled every batch or segment that is garbage each time.
 */
export function clearArray(a: unknown[]): void {
  while (a.length > 0) a.pop();
}
