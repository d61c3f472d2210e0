"""Kernel-side flood for test/kernel/ipv6.test.ts, run inside the test's namespace.

usage: ipv6-flood.py IFACE STACK_MAC STACK_ADDR COUNT

Sends COUNT neighbor solicitations for STACK_ADDR, each from another source address with
another link-layer address (every one would be a new neighbor cache entry), then COUNT
first fragments (offset 0, more fragments) of packets that never complete, each with its own
identification (every one would be a new reassembly buffer).
"""
import random
import sys

from scapy.all import Ether, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6, IPv6ExtHdrFragment, Raw, sendp

iface, mac, target, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rnd = random.Random(7)

def host(i: int) -> str:
    return "fd00::%x:%x" % (0x1000 + (i >> 16), i & 0xFFFF)

def lladdr(i: int) -> str:
    return "02:aa:%02x:%02x:%02x:%02x" % ((i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255)

ns = [
    Ether(dst=mac, src=lladdr(i))
    / IPv6(src=host(i), dst=target, hlim=255)
    / ICMPv6ND_NS(tgt=target)
    / ICMPv6NDOptSrcLLAddr(lladdr=lladdr(i))
    for i in range(count)
]
frags = [
    Ether(dst=mac)
    / IPv6(src="fd00::1", dst=target)
    / IPv6ExtHdrFragment(id=rnd.getrandbits(32), offset=0, m=1, nh=58)
    / Raw(bytes(1024))
    for _ in range(count)
]
sendp(ns, iface=iface, verbose=False)
sendp(frags, iface=iface, verbose=False)
