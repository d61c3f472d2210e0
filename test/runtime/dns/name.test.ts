import { describe, expect, it } from 'vitest';
import { canonicalName } from '../../../src/runtime/dns/name.js';
import { buildQuery, matchResponse } from '../../../src/runtime/dns/message.js';
import { buildResponse, encodeName } from './fake-dns.js';

describe('DNS names and queries', () => {
  it('canonicalises and rejects names', () => {
    expect(canonicalName('WWW.Example.COM.')).toBe('www.example.com');
    expect(canonicalName('a')).toBe('a');
    expect(canonicalName('')).toBeNull();
    expect(canonicalName('.')).toBeNull();
    expect(canonicalName('a..b')).toBeNull();
    expect(canonicalName('x'.repeat(63))).not.toBeNull();
    expect(canonicalName('x'.repeat(64))).toBeNull();
    expect(canonicalName(`${'x'.repeat(63)}.`.repeat(3) + 'x'.repeat(61))).not.toBeNull(); // 255 on the wire
    expect(canonicalName(`${'x'.repeat(63)}.`.repeat(3) + 'x'.repeat(62))).toBeNull(); // 256
    expect(canonicalName('tab\there')).toBeNull();
    expect(canonicalName('ünï.test')).toBeNull();
  });

  it('builds a one-question recursive query, byte for byte', () => {
    const q = buildQuery(0x1234, 'www.example.com', 1);
    expect([...q]).toEqual([
      0x12,
      0x34,
      0x01,
      0x00,
      0,
      1,
      0,
      0,
      0,
      0,
      0,
      0,
      ...encodeName('www.example.com'),
      0,
      1,
      0,
      1,
    ]);
  });

  it('matches a response to its query by id, QR, question name (any case), type and class', () => {
    const r = buildResponse({ id: 7, qname: 'Host.TEST' });
    const answersAt = 12 + encodeName('host.test').length + 4;
    expect(matchResponse(r, r.length, 7, 'host.test', 1)).toBe(answersAt);
    expect(matchResponse(r, r.length, 8, 'host.test', 1)).toBe('wrong_id');
    expect(matchResponse(r, r.length, 7, 'other.test', 1)).toBe('wrong_question');
    expect(matchResponse(r, r.length, 7, 'host.test', 28)).toBe('wrong_question');
    expect(matchResponse(r, 11, 7, 'host.test', 1)).toBe('short');
    expect(matchResponse(r, answersAt - 1, 7, 'host.test', 1)).toBe('wrong_question');
    const query = buildQuery(7, 'host.test', 1);
    expect(matchResponse(query, query.length, 7, 'host.test', 1)).toBe('not_response');
  });
});
