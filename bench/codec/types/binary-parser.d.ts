// binary-parser ships declarations next to its CommonJS build only; its ESM entry (the one
// `import` resolves to) has none beside it. Point TypeScript at the ESM copy of the same file.
declare module 'binary-parser' {
  export { Parser } from 'binary-parser/dist/esm/binary_parser.js';
}
