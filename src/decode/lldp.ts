/**
 * LLDP's chassis and port ids as a packet analyser shows them: a MAC address (their MAC subtype)
 * as `02:00:5e:10:20:30`, the textual subtypes (names, aliases, locally assigned ids) as text,
 * anything else as colon hex. Read through the generated list cursor (specs/lldp.pkt).
 */
import { formatHexColon, formatHwAddr } from '../codec/address.js';
import { lldp } from '../generated/index.js';

const { LldpChassisIdSubtype: Chassis, LldpPortIdSubtype: Port, LldpTlvType } = lldp;

const CHASSIS_TEXT: ReadonlySet<number> = new Set([
  Chassis.InterfaceAlias,
  Chassis.InterfaceName,
  Chassis.Local,
]);
const PORT_TEXT: ReadonlySet<number> = new Set([
  Port.InterfaceAlias,
  Port.InterfaceName,
  Port.AgentCircuitId,
  Port.Local,
]);

export interface LldpIds {
  chassisId: string | null;
  portId: string | null;
}

function idText(bytes: Uint8Array, off: number, len: number, mac: boolean, text: boolean): string {
  if (mac && len === 6) return formatHwAddr(bytes, off, len, len);
  if (text) return new TextDecoder('latin1').decode(bytes.subarray(off, off + len));
  return formatHexColon(bytes, off, len);
}

/** The first chassis and port ids of an LLDPDU (allocates: for humans). */
export function lldpIds(v: lldp.LldpView): LldpIds {
  const out: LldpIds = { chassisId: null, portId: null };
  const c = v.tlvs();
  while (c.next()) {
    if (c.kind === LldpTlvType.ChassisId && out.chassisId === null) {
      const e = c.chassisId;
      const mac = e.subtype === Chassis.MacAddress;
      out.chassisId = idText(c.bytes, e.idOffset, e.idLength, mac, CHASSIS_TEXT.has(e.subtype));
    } else if (c.kind === LldpTlvType.PortId && out.portId === null) {
      const e = c.portId;
      const mac = e.subtype === Port.MacAddress;
      out.portId = idText(c.bytes, e.idOffset, e.idLength, mac, PORT_TEXT.has(e.subtype));
    }
  }
  return out;
}
