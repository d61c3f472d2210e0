// The part of restructure 3's API the benchmark uses (the package ships no type declarations).
declare module 'restructure' {
  export class DecodeStream {
    constructor(buffer: Uint8Array);
    pos: number;
    readonly length: number;
  }
  export class EncodeStream {
    constructor(buffer: Uint8Array);
    pos: number;
  }
  export interface Type {
    decode(stream: DecodeStream, parent?: unknown): unknown;
    encode(stream: EncodeStream, value: unknown, parent?: unknown): void;
    size(value?: unknown, parent?: unknown): number;
  }
  export type Fields = Record<string, Type | ((this: Record<string, unknown>) => unknown)>;
  export type Length = number | string | Type | ((this: Record<string, number>) => number);
  export class Struct implements Type {
    constructor(fields?: Fields);
    decode(stream: DecodeStream, parent?: unknown): unknown;
    encode(stream: EncodeStream, value: unknown, parent?: unknown): void;
    size(value?: unknown, parent?: unknown): number;
  }
  export class VersionedStruct extends Struct {
    constructor(type: Type | string, versions: Record<number, Fields>);
  }
  class ArrayT implements Type {
    constructor(type: Type, length?: Length, lengthType?: 'count' | 'bytes');
    decode(stream: DecodeStream, parent?: unknown): unknown;
    encode(stream: EncodeStream, value: unknown, parent?: unknown): void;
    size(value?: unknown, parent?: unknown): number;
  }
  class BufferT implements Type {
    constructor(length?: Length);
    decode(stream: DecodeStream, parent?: unknown): unknown;
    encode(stream: EncodeStream, value: unknown, parent?: unknown): void;
    size(value?: unknown, parent?: unknown): number;
  }
  export { ArrayT as Array, BufferT as Buffer };
  export const uint8: Type;
  export const uint16be: Type;
  export const uint32be: Type;
}
