# IPv4 header (RFC 791) and its ICMP/UDP/TCP payload, for the codec benchmark. The payload is
# bounded by total_length (Ethernet padding after it is not part of the packet).
meta:
  id: ipv4_packet
  title: IPv4 packet
  endian: be
  imports:
    - icmp_packet
    - tcp_segment
    - udp_datagram
seq:
  - id: version
    type: b4
    valid: 4
  - id: ihl
    type: b4
    valid:
      min: 5
  - id: dscp
    type: b6
  - id: ecn
    type: b2
  - id: total_length
    type: u2
  - id: identification
    type: u2
  - id: flags
    type: b3
  - id: fragment_offset
    type: b13
  - id: ttl
    type: u1
  - id: protocol
    type: u1
  - id: checksum
    type: u2
  - id: src
    type: u4
  - id: dst
    type: u4
  - id: options
    size: ihl * 4 - 20
  - id: body
    size: total_length - ihl * 4
    type:
      switch-on: protocol
      cases:
        1: icmp_packet
        6: tcp_segment
        17: udp_datagram
