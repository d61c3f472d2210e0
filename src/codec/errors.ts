/**
 * Decode errors shared by every generated codec. A view owns one error record and reuses it on
 * every failed wrap(), so reporting a malformed frame allocates nothing.
 */

export type DecodeErrorCode =
  /** The buffer ends before a field or a declared length. */
  | 'E_TRUNCATED'
  /** A length field is impossible (ihl < 5, dataOffset < 5, udp length < 8, ...). */
  | 'E_BAD_LENGTH'
  /** A field has a value the spec forbids (version != 4, ...). */
  | 'E_BAD_VALUE'
  /** An option list cannot be delimited (length 0/1, runs past its area). */
  | 'E_BAD_OPTION'
  /** DNS name too long, label > 63, bad label type. */
  | 'E_BAD_NAME'
  /** DNS compression pointer loop / too many jumps. */
  | 'E_POINTER_LOOP'
  /** DNS compression pointer past the end of the message. */
  | 'E_BAD_POINTER'
  /** FrameDecoder: a tunnel nested deeper than FRAME_MAX_DEPTH (the frame stops there). */
  | 'E_TOO_DEEP';

export interface DecodeError {
  code: DecodeErrorCode;
  /** 'ethernet' | 'arp' | 'ipv4' | 'icmp' | 'udp' | 'tcp' | 'dhcp' | 'dns' */
  layer: string;
  /** Spec field name, e.g. 'ihl', 'options', 'questions.name'. */
  field: string;
  /** Index into the `bytes` passed to wrap() where the problem is. */
  offset: number;
}

/** A fresh record for one view (or cursor) to reuse. */
export function newDecodeError(layer: string): DecodeError {
  return { code: 'E_TRUNCATED', layer, field: '', offset: 0 };
}

/** Fills a reused record and returns it, so failure paths read `return fail(...)`. */
export function fail(
  error: DecodeError,
  code: DecodeErrorCode,
  field: string,
  offset: number,
): DecodeError {
  error.code = code;
  error.field = field;
  error.offset = offset;
  return error;
}

/** A detached copy, for callers that keep an error past the next wrap(). */
export function copyDecodeError(error: DecodeError): DecodeError {
  return { code: error.code, layer: error.layer, field: error.field, offset: error.offset };
}

/** Distinguishes the error arm of `decodeX()` results (`Fields | DecodeError`). */
export function isDecodeError(value: unknown): value is DecodeError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { layer?: unknown }).layer === 'string' &&
    typeof (value as { offset?: unknown }).offset === 'number'
  );
}
