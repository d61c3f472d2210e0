/**
 * A scripted DHCPv6 server for the tests: reads client messages with the generated view and
 * option decoder, builds Advertise/Reply messages with the generated encoders (specs/dhcpv6.pkt).
 */
import { dhcpv6 } from '../../../src/generated/index.js';

export const MSG = dhcpv6.Dhcpv6MessageType;
export const OPT = dhcpv6.Dhcpv6OptionCode;
export const STATUS = dhcpv6.Dhcpv6StatusCode;

/** The server's DUID-LL (MAC 02:00:00:00:00:01). */
export const SERVER_DUID = { duidType: 3, duid: Uint8Array.from([0, 1, 2, 0, 0, 0, 0, 1]) };

type Item = dhcpv6.Dhcpv6OptionsItem;

export interface ClientMessage {
  type: number;
  xid: number;
  items: Item[];
  clientId: { duidType: number; duid: Uint8Array } | null;
  serverId: { duidType: number; duid: Uint8Array } | null;
  ia: { iaid: number; t1: number; t2: number; addresses: string[] } | null;
  oro: number[];
  /** Elapsed Time, hundredths of a second; -1 when absent. */
  elapsed: number;
}

export function parseClient(bytes: Uint8Array): ClientMessage {
  const v = new dhcpv6.Dhcpv6View();
  const err = v.wrap(bytes, 0, bytes.length);
  if (err !== null) throw new Error(`client sent a malformed message: ${err.code} ${err.field}`);
  const items = dhcpv6.decodeDhcpv6Options(bytes, v.optionsOffset, v.optionsLength);
  const m: ClientMessage = {
    type: v.msgType,
    xid: v.transactionId,
    items,
    clientId: null,
    serverId: null,
    ia: null,
    oro: [],
    elapsed: -1,
  };
  for (const it of items) {
    if (it.kind === 'ClientId') m.clientId = { duidType: it.duidType, duid: it.duid };
    if (it.kind === 'ServerId') m.serverId = { duidType: it.duidType, duid: it.duid };
    if (it.kind === 'OptionRequest') m.oro = [...it.codes];
    if (it.kind === 'ElapsedTime') m.elapsed = it.time;
    if (it.kind === 'IaNa')
      m.ia = {
        iaid: it.iaid,
        t1: it.t1,
        t2: it.t2,
        addresses: it.options.flatMap((o) => (o.kind === 'IaAddr' ? [o.address] : [])),
      };
  }
  return m;
}

export function serverMessage(type: number, xid: number, items: readonly Item[]): Uint8Array {
  const scratch = new Uint8Array(2048);
  const n = dhcpv6.encodeDhcpv6Options(items, scratch, 0);
  if (n < 0) throw new Error('options do not fit');
  const out = new Uint8Array(4 + n);
  dhcpv6.encodeDhcpv6(
    { msgType: type, transactionId: xid, options: scratch.subarray(0, n) },
    out,
    0,
  );
  return out;
}

export function iaNa(
  iaid: number,
  t1: number,
  t2: number,
  addresses: Array<{ address: string; preferred: number; valid: number }>,
  status?: number,
): Item {
  const options: Item[] = addresses.map((a) => ({
    kind: 'IaAddr',
    address: a.address,
    preferredLifetime: a.preferred,
    validLifetime: a.valid,
    options: [],
  }));
  if (status !== undefined)
    options.push({ kind: 'StatusCode', status, message: new TextEncoder().encode('scripted') });
  return { kind: 'IaNa', iaid, t1, t2, options };
}

export function statusCode(status: number, text = 'scripted'): Item {
  return { kind: 'StatusCode', status, message: new TextEncoder().encode(text) };
}

export function domainList(names: string[]): Item {
  const out = new Uint8Array(512);
  const n = dhcpv6.encodeDhcpv6DomainList({ domains: names.map((name) => ({ name })) }, out, 0);
  return { kind: 'DomainList', domains: out.slice(0, n) };
}

/**
 * The usual answer to a client message: the client's own ClientId echoed, our ServerId, then
 * `extra` options.
 */
export function answer(req: ClientMessage, type: number, extra: readonly Item[]): Uint8Array {
  const items: Item[] = [];
  if (req.clientId !== null) items.push({ kind: 'ClientId', ...req.clientId });
  items.push({ kind: 'ServerId', ...SERVER_DUID });
  items.push(...extra);
  return serverMessage(type, req.xid, items);
}
