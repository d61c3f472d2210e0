# TCP header (RFC 9293) with its option list: EOL, NOP, MSS, window scale, SACK-permitted,
# SACK blocks, timestamps; other kinds kept as raw bytes.
meta:
  id: tcp_segment
  title: TCP segment
  endian: be
seq:
  - id: src_port
    type: u2
  - id: dst_port
    type: u2
  - id: seq_num
    type: u4
  - id: ack_num
    type: u4
  - id: data_offset
    type: b4
    valid:
      min: 5
  - id: reserved
    type: b3
  - id: flags
    type: b9
  - id: window
    type: u2
  - id: checksum
    type: u2
  - id: urgent_pointer
    type: u2
  - id: options
    size: data_offset * 4 - 20
    type: tcp_options
instances:
  payload_length:
    value: _io.size - data_offset * 4
types:
  tcp_options:
    seq:
      - id: entries
        type: tcp_option
        repeat: eos
  tcp_option:
    seq:
      - id: kind
        type: u1
      - id: len
        type: u1
        if: kind > 1
      - id: body
        size: len - 2
        if: kind > 1
        type:
          switch-on: kind
          cases:
            2: option_mss
            3: option_window_scale
            5: option_sack
            8: option_timestamps
  option_mss:
    seq:
      - id: mss
        type: u2
  option_window_scale:
    seq:
      - id: shift
        type: u1
  option_sack:
    seq:
      - id: blocks
        type: sack_block
        repeat: eos
  sack_block:
    seq:
      - id: left
        type: u4
      - id: right
        type: u4
  option_timestamps:
    seq:
      - id: tsval
        type: u4
      - id: tsecr
        type: u4
