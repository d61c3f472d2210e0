/**
 * Errors in a .pkt spec, reported as `file:line:col: message`, then the source line and a caret
 * under the column (the format compilers use, so editors can jump to it).
 */
export class SpecError extends Error {
  constructor(
    readonly file: string,
    readonly source: string,
    /** Character index into `source`. */
    readonly index: number,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'SpecError';
  }

  get line(): number {
    return lineAndColumn(this.source, this.index).line;
  }

  get column(): number {
    return lineAndColumn(this.source, this.index).column;
  }

  /** The three-line report: location and message, source line, caret. */
  format(): string {
    const { line, column, text } = lineAndColumn(this.source, this.index);
    return `${this.file}:${line}:${column}: ${this.detail}\n${text}\n${' '.repeat(column - 1)}^`;
  }
}

/** 1-based line and column of a character index, plus the text of that line. */
export function lineAndColumn(
  source: string,
  index: number,
): { line: number; column: number; text: string } {
  const clamped = Math.max(0, Math.min(index, source.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < clamped; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let lineEnd = source.indexOf('\n', lineStart);
  if (lineEnd < 0) lineEnd = source.length;
  // Tabs would misplace the caret; show them as single spaces.
  const text = source.slice(lineStart, lineEnd).replace(/\t/g, ' ');
  return { line, column: clamped - lineStart + 1, text };
}
