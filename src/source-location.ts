/**
 * Where a character index falls in a source text, for `file:line:col` reports with a caret. The
 * same helper lives in codegen/spec-error.ts: the generator runs standalone (its tests copy
 * codegen/ and specs/ without src/), so it cannot import this one.
 */

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

/** `file:line:col: message`, the source line, and a caret under the column. */
export function formatSourceError(
  file: string,
  source: string,
  index: number,
  message: string,
): string {
  const { line, column, text } = lineAndColumn(source, index);
  return `${file}:${line}:${column}: ${message}\n${text}\n${' '.repeat(column - 1)}^`;
}
