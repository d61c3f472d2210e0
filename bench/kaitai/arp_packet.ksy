# ARP for Ethernet/IPv4 (RFC 826), for the codec benchmark.
meta:
  id: arp_packet
  title: ARP packet
  endian: be
seq:
  - id: htype
    type: u2
  - id: ptype
    type: u2
  - id: hlen
    type: u1
  - id: plen
    type: u1
  - id: op
    type: u2
  - id: sha_hi
    type: u2
  - id: sha_lo
    type: u4
  - id: spa
    type: u4
  - id: tha_hi
    type: u2
  - id: tha_lo
    type: u4
  - id: tpa
    type: u4
