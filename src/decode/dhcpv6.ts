/**
 * DHCPv6 in `pktstack decode`: client/server messages and relay messages have their own layouts
 * (specs/dhcpv6.pkt); the message type, the first byte, says which. Options, nested ones
 * included, are the views' own (`Dhcpv6Options`).
 */
import type { DecodeError } from '../codec/errors.js';
import { dhcpv6 } from '../generated/index.js';

type PrefixDecoder = (bytes: Uint8Array, offset: number, length: number, last?: string) => object;

/** The views of both layouts, owned and re-pointed per message (a walk allocates nothing). */
export class Dhcpv6Decoder {
  readonly message = new dhcpv6.Dhcpv6View();
  readonly relay = new dhcpv6.Dhcpv6RelayView();
  /** The message is a relay-forward or relay-reply (the `relay` view holds it). */
  isRelay = false;

  /**
   * Wraps the message at bytes[offset, offset + length): as a client/server message, or, when its
   * type is a relay's (that view refuses it at msgType), as a relay message.
   */
  wrap(bytes: Uint8Array, offset: number, length: number): DecodeError | null {
    this.isRelay = false;
    const err = this.message.wrap(bytes, offset, length);
    if (err === null || err.code !== 'E_BAD_VALUE' || err.field !== 'msgType') return err;
    this.isRelay = true;
    return this.relay.wrap(bytes, offset, length);
  }

  get view(): dhcpv6.Dhcpv6View | dhcpv6.Dhcpv6RelayView {
    return this.isRelay ? this.relay : this.message;
  }

  /** The prefix decoder of the current layout (the fields before a failing one). */
  get prefixDecoder(): PrefixDecoder {
    return this.isRelay ? dhcpv6.decodeDhcpv6RelayPrefix : dhcpv6.decodeDhcpv6Prefix;
  }
}
