# Ethernet II frame for the codec benchmark (bench/codec). MACs are read as a 16-bit and a
# 32-bit half: the numbers the benchmark folds, without allocating a 6-byte slice per address.
meta:
  id: ethernet_frame
  title: Ethernet II frame
  endian: be
  imports:
    - arp_packet
    - ipv4_packet
    - ipv6_packet
seq:
  - id: dst_hi
    type: u2
  - id: dst_lo
    type: u4
  - id: src_hi
    type: u2
  - id: src_lo
    type: u4
  - id: ether_type
    type: u2
  - id: body
    size-eos: true
    type:
      switch-on: ether_type
      cases:
        0x0800: ipv4_packet
        0x86dd: ipv6_packet
        0x0806: arp_packet
