# ICMP header (RFC 792); identifier and sequence as in echo request/reply.
meta:
  id: icmp_packet
  title: ICMP message
  endian: be
seq:
  - id: type
    type: u1
  - id: code
    type: u1
  - id: checksum
    type: u2
  - id: identifier
    type: u2
  - id: sequence
    type: u2
