/**
 * `import ... from 'pktstack'`: the stack (as 'pktstack/stack'), the generated codecs as one
 * namespace per spec (as 'pktstack/codecs'), and the codec helpers every decoder user needs:
 * the decode error type and its guard, and the Internet checksum the specs' checksum rules use.
 */
export * from './runtime/index.js';
export * as codecs from './generated/index.js';
export {
  type DecodeError,
  type DecodeErrorCode,
  isDecodeError,
  copyDecodeError,
} from './codec/errors.js';
export { internetChecksum, internetChecksumFrom } from './codec/checksum.js';
export { copyBytes } from './codec/bytes.js';
export { onesComplementSum, pseudoHeaderSum, ipv6PseudoHeaderSum } from './codec/checksum.js';
export {
  formatHex,
  formatHexColon,
  formatHwAddr,
  formatIpv6,
  parseIpv6,
  ipv6Equals,
} from './codec/address.js';
