# IPv6 header (RFC 8200) and its UDP/TCP payload, for the codec benchmark (no extension headers
# in the workload). Addresses are read as four 32-bit words, the numbers the benchmark folds,
# without allocating a 16-byte slice per address. The payload is bounded by payload_len.
meta:
  id: ipv6_packet
  title: IPv6 packet
  endian: be
  imports:
    - tcp_segment
    - udp_datagram
seq:
  - id: version
    type: b4
    valid: 6
  - id: traffic_class
    type: b8
  - id: flow_label
    type: b20
  - id: payload_len
    type: u2
  - id: next_header
    type: u1
  - id: hop_limit
    type: u1
  - id: src0
    type: u4
  - id: src1
    type: u4
  - id: src2
    type: u4
  - id: src3
    type: u4
  - id: dst0
    type: u4
  - id: dst1
    type: u4
  - id: dst2
    type: u4
  - id: dst3
    type: u4
  - id: body
    size: payload_len
    type:
      switch-on: next_header
      cases:
        6: tcp_segment
        17: udp_datagram
