#!/usr/bin/python3
"""Deterministic benchmark corpus for `npm run bench:codec`.

Builds realistic Ethernet frames with scapy (Debian's python3-scapy; run with /usr/bin/python3)
and writes them as a classic pcap (microsecond timestamps, LINKTYPE_ETHERNET). Everything that
varies (addresses, ports, sequence numbers, payload sizes, timestamps) comes from one seeded
random.Random, and the pcap is written by hand, so the same seed and count always give the same
bytes (the bench checks a hash of the file; the smoke test checks two runs are identical).

Mix, per "session" drawn at random (weights below), loosely shaped like a LAN capture:
  - TCP connections the way Linux makes them: SYN / SYN-ACK with MSS, SACK-permitted, timestamps,
    NOP, window scale; data + ACK segments with NOP NOP timestamps; some ACKs carrying 1-3 SACK
    blocks; FIN handshake.
  - DNS over UDP: A / AAAA queries and responses (compression pointers in answers).
  - ARP who-has / is-at.
  - ICMP echo request / reply with 56-byte payloads.
  - DHCP DISCOVER / OFFER / REQUEST / ACK.
  - The TCP connections and DNS exchanges again over IPv6 (no extension headers), between the
    hosts' unique local addresses.

Usage: generate.py [--out PATH] [--count N] [--seed S]
"""

import argparse
import random
import struct
import sys

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
MIN_FRAME = 60  # Ethernet minimum without FCS; short frames are zero-padded like a NIC does
NAMES = [
    "example.com", "www.example.org", "api.internal.lan", "cdn.static.example.net",
    "mail.example.com", "ntp.pool.example", "updates.debian.example", "git.example.dev",
]


class Host:
    def __init__(self, rng, index):
        self.mac = "02:00:%02x:%02x:%02x:%02x" % (
            index, rng.randrange(256), rng.randrange(256), rng.randrange(256))
        self.ip = "10.%d.%d.%d" % (rng.randrange(4), rng.randrange(256), 1 + rng.randrange(253))
        self.ip6 = "fd00:%x:%x::%x" % (rng.randrange(1 << 16), rng.randrange(1 << 16),
                                       1 + rng.randrange(0xFFFE))


class Corpus:
    def __init__(self, rng):
        self.rng = rng
        self.frames = []
        self.time_us = 1_700_000_000 * 1_000_000
        self.hosts = [Host(rng, i) for i in range(24)]
        self.ip_id = rng.randrange(65536)

    def emit(self, pkt):
        self.time_us += self.rng.randrange(5, 900)
        raw = bytes(pkt)
        if len(raw) < MIN_FRAME:
            raw += b"\x00" * (MIN_FRAME - len(raw))
        self.frames.append((self.time_us, raw))

    def next_id(self):
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        return self.ip_id

    def pair(self):
        a, b = self.rng.sample(self.hosts, 2)
        return a, b

    def ip(self, src, dst, **kw):
        return IP(src=src.ip, dst=dst.ip, id=self.next_id(), ttl=64, **kw)

    def ip6(self, src, dst):
        return IPv6(src=src.ip6, dst=dst.ip6, hlim=64,
                    tc=self.rng.choice([0, 0, 0x28]), fl=self.rng.randrange(1 << 20))

    # --- TCP -------------------------------------------------------------------------------
    def tcp_session(self, v6=False):
        rng = self.rng
        cli, srv = self.pair()
        sport = rng.randrange(32768, 61000)
        dport = rng.choice([80, 443, 8080, 22, 5432])
        cseq = rng.randrange(1 << 32)
        sseq = rng.randrange(1 << 32)
        cts = rng.randrange(1 << 32)
        sts = rng.randrange(1 << 32)
        mss = rng.choice([1460, 1448, 1400, 536])
        ws_c, ws_s = rng.choice([7, 8, 9]), rng.choice([7, 9, 10])

        def seg(src, dst, sp, dp, seq, ack, flags, opts, payload=b"", window=None):
            win = window if window is not None else rng.randrange(500, 65535)
            net = self.ip6(src, dst) if v6 else self.ip(src, dst, flags="DF")
            pkt = (Ether(src=src.mac, dst=dst.mac) / net
                   / TCP(sport=sp, dport=dp, seq=seq & 0xFFFFFFFF, ack=ack & 0xFFFFFFFF,
                         flags=flags, window=win, options=opts))
            if payload:
                pkt = pkt / payload
            self.emit(pkt)

        syn_opts = [("MSS", mss), ("SAckOK", b""), ("Timestamp", (cts, 0)), ("NOP", None),
                    ("WScale", ws_c)]
        seg(cli, srv, sport, dport, cseq, 0, "S", syn_opts, window=64240)
        synack_opts = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (sts, cts)), ("NOP", None),
                       ("WScale", ws_s)]
        seg(srv, cli, dport, sport, sseq, cseq + 1, "SA", synack_opts, window=65160)
        cseq += 1
        sseq += 1

        def ts_opts(a, b):
            return [("NOP", None), ("NOP", None), ("Timestamp", (a & 0xFFFFFFFF, b & 0xFFFFFFFF))]

        seg(cli, srv, sport, dport, cseq, sseq, "A", ts_opts(cts + 1, sts))
        for _ in range(rng.randrange(2, 14)):
            cts += rng.randrange(1, 40)
            sts += rng.randrange(1, 40)
            if rng.random() < 0.35:  # client sends a request
                n = rng.randrange(40, 600)
                seg(cli, srv, sport, dport, cseq, sseq, "PA", ts_opts(cts, sts),
                    bytes(rng.getrandbits(8) for _ in range(n)))
                cseq += n
                seg(srv, cli, dport, sport, sseq, cseq, "A", ts_opts(sts, cts))
            else:  # server streams data, client ACKs, sometimes with SACK after a "loss"
                n = rng.choice([mss, mss, mss, rng.randrange(100, mss)])
                seg(srv, cli, dport, sport, sseq, cseq, "PA" if n < mss else "A",
                    ts_opts(sts, cts), bytes(rng.getrandbits(8) for _ in range(n)))
                sseq += n
                if rng.random() < 0.2:
                    blocks = []
                    left = sseq + mss
                    for _ in range(rng.randrange(1, 4)):
                        right = left + mss * rng.randrange(1, 4)
                        blocks += [left & 0xFFFFFFFF, right & 0xFFFFFFFF]
                        left = right + mss
                    opts = ts_opts(cts, sts) + [("NOP", None), ("NOP", None),
                                                ("SAck", tuple(blocks))]
                    seg(cli, srv, sport, dport, cseq, sseq, "A", opts)
                else:
                    seg(cli, srv, sport, dport, cseq, sseq, "A", ts_opts(cts, sts))
        seg(cli, srv, sport, dport, cseq, sseq, "FA", ts_opts(cts + 1, sts))
        seg(srv, cli, dport, sport, sseq, cseq + 1, "FA", ts_opts(sts + 1, cts + 1))
        seg(cli, srv, sport, dport, cseq + 1, sseq + 1, "A", ts_opts(cts + 2, sts + 1))

    # --- UDP / DNS -------------------------------------------------------------------------
    def dns_exchange(self, v6=False):
        rng = self.rng
        cli, srv = self.pair()
        sport = rng.randrange(32768, 61000)
        qid = rng.randrange(65536)
        name = rng.choice(NAMES)
        qtype = rng.choice(["A", "A", "AAAA"])
        query = DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype))
        net = self.ip6(cli, srv) if v6 else self.ip(cli, srv)
        self.emit(Ether(src=cli.mac, dst=srv.mac) / net / UDP(sport=sport, dport=53) / query)
        answers = []
        for _ in range(rng.randrange(1, 4)):
            if qtype == "A":
                rdata = "93.184.%d.%d" % (rng.randrange(256), rng.randrange(256))
            else:
                rdata = "2001:db8::%x" % rng.randrange(1, 0xFFFF)
            answers.append(DNSRR(rrname=name, type=qtype, ttl=rng.randrange(30, 86400),
                                 rdata=rdata))
        an = answers[0]
        for rr in answers[1:]:
            an = an / rr
        resp = DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name, qtype=qtype), an=an)
        net = self.ip6(srv, cli) if v6 else self.ip(srv, cli)
        self.emit(Ether(src=srv.mac, dst=cli.mac) / net / UDP(sport=53, dport=sport) / resp)

    # --- ARP -------------------------------------------------------------------------------
    def arp_exchange(self):
        a, b = self.pair()
        self.emit(Ether(src=a.mac, dst="ff:ff:ff:ff:ff:ff")
                  / ARP(op=1, hwsrc=a.mac, psrc=a.ip, hwdst="00:00:00:00:00:00", pdst=b.ip))
        self.emit(Ether(src=b.mac, dst=a.mac)
                  / ARP(op=2, hwsrc=b.mac, psrc=b.ip, hwdst=a.mac, pdst=a.ip))

    # --- ICMP ------------------------------------------------------------------------------
    def ping(self):
        rng = self.rng
        a, b = self.pair()
        ident = rng.randrange(65536)
        for seq in range(1, rng.randrange(2, 5)):
            data = bytes(rng.getrandbits(8) for _ in range(56))
            self.emit(Ether(src=a.mac, dst=b.mac) / self.ip(a, b, flags="DF")
                      / ICMP(type=8, id=ident, seq=seq) / data)
            self.emit(Ether(src=b.mac, dst=a.mac) / self.ip(b, a)
                      / ICMP(type=0, id=ident, seq=seq) / data)

    # --- DHCP ------------------------------------------------------------------------------
    def dhcp_exchange(self):
        rng = self.rng
        cli, srv = self.pair()
        xid = rng.randrange(1 << 32)
        chaddr = bytes.fromhex(cli.mac.replace(":", "")) + b"\x00" * 10
        offered = "10.0.9.%d" % (10 + rng.randrange(200))
        bcast = "ff:ff:ff:ff:ff:ff"

        def client(msg, extra):
            opts = [("message-type", msg), ("client_id", b"\x01" + chaddr[:6])] + extra + \
                [("param_req_list", [1, 3, 6, 15, 28, 51, 58, 59]), "end"]
            self.emit(Ether(src=cli.mac, dst=bcast)
                      / IP(src="0.0.0.0", dst="255.255.255.255", id=self.next_id(), ttl=64)
                      / UDP(sport=68, dport=67)
                      / BOOTP(op=1, xid=xid, chaddr=chaddr, flags=0x8000) / DHCP(options=opts))

        def server(msg):
            opts = [("message-type", msg), ("server_id", srv.ip), ("lease_time", 3600),
                    ("renewal_time", 1800), ("rebinding_time", 3150),
                    ("subnet_mask", "255.255.255.0"), ("router", "10.0.9.1"),
                    ("name_server", srv.ip), "end"]
            self.emit(Ether(src=srv.mac, dst=bcast) / IP(src=srv.ip, dst="255.255.255.255", id=self.next_id(), ttl=64)
                      / UDP(sport=67, dport=68)
                      / BOOTP(op=2, xid=xid, yiaddr=offered, siaddr=srv.ip, chaddr=chaddr)
                      / DHCP(options=opts))

        client("discover", [])
        server("offer")
        client("request", [("requested_addr", offered), ("server_id", srv.ip)])
        server("ack")


def build(count, seed):
    rng = random.Random(seed)
    corpus = Corpus(rng)
    kinds = [(Corpus.tcp_session, 30), (Corpus.dns_exchange, 40), (Corpus.arp_exchange, 14),
             (Corpus.ping, 10), (Corpus.dhcp_exchange, 6),
             (lambda c: c.tcp_session(v6=True), 10), (lambda c: c.dns_exchange(v6=True), 12)]
    fns = [k for k, _ in kinds]
    weights = [w for _, w in kinds]
    while len(corpus.frames) < count:
        rng.choices(fns, weights)[0](corpus)
    return corpus.frames[:count]


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET))
        for t, raw in frames:
            f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(raw), len(raw)))
            f.write(raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bench/corpus/corpus.pcap")
    ap.add_argument("--count", type=int, default=12000)
    ap.add_argument("--seed", type=int, default=20261125)
    args = ap.parse_args()
    if args.count < 1:
        sys.exit("generate.py: --count must be >= 1")
    frames = build(args.count, args.seed)
    write_pcap(args.out, frames)
    print("generate.py: wrote %d frames to %s" % (len(frames), args.out))


if __name__ == "__main__":
    main()
