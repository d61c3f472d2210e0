/**
 * stack.dns against node:dns. One zone (test/runtime/dns/zone-server.ts, written with the
 * generated DNS encoder) is served on a UDP port of the server side: by node:dgram on
 * 127.0.0.1 in the node run, asked by a `dns.Resolver` pointed at it; by stack.dgram on the
 * server stack in the stack run, asked by the client stack's `stack.dns`. Both runs must record
 * the same records and the same errors. `lookup` goes to the system's resolver in the node run,
 * so its cases use address literals only.
 */
import * as nodeDns from 'node:dns';
import { describe } from 'vitest';
import { answerQuery, TEST_ZONE } from '../runtime/dns/zone-server.js';
import { conformance, type Env } from './harness.js';

/** What the bodies ask: node's Resolver or stack.dns, both with node's callback API. */
type Resolving = Pick<
  nodeDns.Resolver,
  | 'resolve'
  | 'resolve4'
  | 'resolve6'
  | 'resolveCname'
  | 'resolveMx'
  | 'resolveNs'
  | 'resolvePtr'
  | 'resolveSoa'
  | 'resolveSrv'
  | 'resolveTxt'
  | 'reverse'
  | 'setServers'
  | 'getServers'
>;

/** Serves TEST_ZONE on the server side; returns a resolver of the client side asking it. */
async function zone(env: Env, { closed = false } = {}): Promise<{ dns: Resolving; port: number }> {
  const srv = env.server.dgram.createSocket('udp4');
  srv.on('message', (m, r) => {
    const reply = answerQuery(TEST_ZONE, m);
    if (reply !== null) srv.send(reply, r.port, r.address);
  });
  await new Promise<void>((resolve) => srv.bind(0, env.server.host, resolve));
  const port = srv.address().port;
  if (closed) await new Promise<void>((resolve) => srv.close(resolve));
  else env.cleanup(() => srv.close());
  const servers = [`${env.server.host}:${port}`];
  const dns: Resolving =
    env.kind === 'node'
      ? new nodeDns.Resolver({ timeout: 2000, tries: 1 })
      : (env.client.stack!.dns as unknown as Resolving);
  dns.setServers(servers);
  return { dns, port };
}

/** Calls `f(cb)` and resolves with what the callback got: `[err, value]`. */
function call<T>(f: (cb: (err: Error | null, value?: T) => void) => void) {
  return new Promise<[Error | null, T | undefined]>((resolve) =>
    f((err, value) => resolve([err, value])),
  );
}

describe('node:dns conformance', () => {
  conformance(
    'resolve4/6, resolve(rrtype) and resolveMx/Txt/Ns/Srv/Cname/Soa/Ptr, reverse: the same records',
    [
      'A ["10.0.0.80","10.0.0.81"]',
      'AAAA via CNAME ["fd00::80"]',
      'resolve A ["10.0.0.80","10.0.0.81"]',
      'ttl [{"address":"10.0.0.80","ttl":300},{"address":"10.0.0.81","ttl":300}]',
      'MX [{"exchange":"mx1.test","priority":10},{"exchange":"mx2.test","priority":20}]',
      'resolve MX [{"exchange":"mx1.test","priority":10},{"exchange":"mx2.test","priority":20}]',
      'TXT [["v=spf1 -all"],["two","chunks"]]',
      'NS ["ns.test"]',
      'SRV [{"name":"sip.test","port":5060,"priority":1,"weight":5}]',
      'CNAME ["www.test"]',
      'SOA {"nsname":"ns.test","hostmaster":"admin.test","serial":7,"refresh":3600,"retry":600,"expire":86400,"minttl":60}',
      'PTR ["www.test"]',
      'reverse ["www.test"]',
      'reverse6 ["www.test"]',
    ],
    async (env) => {
      const { dns } = await zone(env);
      const show = async <T>(label: string, f: (cb: (e: Error | null, v?: T) => void) => void) => {
        const [err, value] = await call(f);
        if (err !== null) env.log.error(label, err);
        else env.log.add(label, JSON.stringify(value));
      };
      await show('A', (cb) => dns.resolve4('www.test', cb));
      await show('AAAA via CNAME', (cb) => dns.resolve6('alias.test', cb));
      await show('resolve A', (cb) => dns.resolve('www.test', 'A', cb));
      await show('ttl', (cb) => dns.resolve4('www.test', { ttl: true }, cb));
      await show('MX', (cb) => dns.resolveMx('mail.test', cb));
      await show('resolve MX', (cb) => dns.resolve('mail.test', 'MX', cb));
      await show('TXT', (cb) => dns.resolveTxt('mail.test', cb));
      await show('NS', (cb) => dns.resolveNs('mail.test', cb));
      await show('SRV', (cb) => dns.resolveSrv('_sip._udp.test', cb));
      await show('CNAME', (cb) => dns.resolveCname('alias.test', cb));
      await show('SOA', (cb) => dns.resolveSoa('test', cb));
      await show('PTR', (cb) => dns.resolvePtr('80.0.0.10.in-addr.arpa', cb));
      await show('reverse', (cb) => dns.reverse('10.0.0.80', cb));
      await show('reverse6', (cb) => dns.reverse('fd00::80', cb));
    },
  );

  conformance(
    "failures carry node's codes and syscalls: ENOTFOUND, ENODATA, ESERVFAIL, EREFUSED, ECONNREFUSED",
    [
      'nxdomain ENOTFOUND queryA hostname=true',
      'nodata ENODATA queryMx hostname=true',
      'servfail ESERVFAIL queryA',
      'refused EREFUSED queryA',
      'closed port ECONNREFUSED queryA',
      'getServers one=true',
    ],
    async (env) => {
      const { dns } = await zone(env);
      const fail = async (
        label: string,
        name: string,
        f: (cb: (e: Error | null) => void) => void,
      ) => {
        const [err] = await call(f);
        const e = err as NodeJS.ErrnoException & { hostname?: string };
        const parts = [label, e?.code, e?.syscall];
        if (name !== '') parts.push(`hostname=${e?.hostname === name}`);
        env.log.add(...parts);
      };
      await fail('nxdomain', 'nowhere.test', (cb) => dns.resolve4('nowhere.test', cb));
      await fail('nodata', 'www.test', (cb) => dns.resolveMx('www.test', cb));
      await fail('servfail', '', (cb) => dns.resolve4('broken.test', cb));
      await fail('refused', '', (cb) => dns.resolve4('refused.test', cb));
      const closed = await zone(env, { closed: true });
      await fail('closed port', '', (cb) => closed.dns.resolve4('www.test', cb));
      env.log.add('getServers', `one=${closed.dns.getServers().length === 1}`);
    },
  );

  conformance(
    "lookup of literals with node's options and callback forms; default result order",
    [
      'lookup 10.1.2.3 4',
      'lookup all [{"address":"fd00::1","family":6}]',
      'lookup family mismatch 10.1.2.3 4',
      'promises {"address":"10.1.2.3","family":4}',
      'bad family ERR_INVALID_ARG_VALUE',
      'bad hints ERR_INVALID_ARG_VALUE',
      'default order verbatim',
      'order now ipv4first',
    ],
    async ({ client, log, cleanup }) => {
      const dns = client.dns;
      const [, address, family] = await new Promise<unknown[]>((resolve) =>
        dns.lookup('10.1.2.3', (...args) => resolve(args)),
      );
      log.add('lookup', String(address), String(family));
      const [, all] = await new Promise<unknown[]>((resolve) =>
        dns.lookup('fd00::1', { all: true }, (...args) => resolve(args)),
      );
      log.add('lookup all', JSON.stringify(all));
      const [, a2, f2] = await new Promise<unknown[]>((resolve) =>
        dns.lookup('10.1.2.3', { family: 6 }, (...args) => resolve(args)),
      );
      log.add('lookup family mismatch', String(a2), String(f2));
      log.add('promises', JSON.stringify(await dns.promises.lookup('10.1.2.3')));
      const thrown = (f: () => unknown) => {
        try {
          f();
          return 'no throw';
        } catch (e) {
          return String((e as { code?: string }).code);
        }
      };
      log.add(
        'bad family',
        thrown(() => dns.lookup('x.test', { family: 5 as 4 }, () => undefined)),
      );
      log.add(
        'bad hints',
        thrown(() => dns.lookup('x.test', { hints: 0xfffff }, () => undefined)),
      );
      const before = dns.getDefaultResultOrder();
      log.add('default order', before);
      cleanup(() => dns.setDefaultResultOrder(before));
      dns.setDefaultResultOrder('ipv4first');
      log.add('order now', dns.getDefaultResultOrder());
    },
  );
});
