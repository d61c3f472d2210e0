#!/usr/bin/env bash
# netns.sh — a network namespace holding a persistent TAP device for pktstack.
#
#   scripts/netns.sh up   NAME [--mtu N] [--tap DEV] [--host-ip ADDR/LEN] [--mac MAC]
#   scripts/netns.sh down NAME
#   scripts/netns.sh status NAME
#
# `up` makes namespace NAME (if missing) with loopback up and a persistent TAP (default tap0)
# whose kernel side is 10.0.0.1/24 with the fixed MAC 02:00:00:00:00:01, IPv6 disabled (so the
# kernel sends no router solicitations, MLD or DAD frames into the stack) and cubic congestion
# control (BBR was slower and retransmitted spuriously here). The TAP stays down-carrier until a
# process attaches. Then run the stack inside the namespace, e.g.
#     ip netns exec NAME npx tsx src/cli/main.ts run --tap tap0 --ip 10.0.0.2/24
#     ip netns exec NAME ping 10.0.0.2
# `down` deletes the namespace and with it the TAP. Both are idempotent. Needs root.
set -euo pipefail

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd="$1"; ns="$2"; shift 2
case "$ns" in
  ''|*/*|.*) echo "netns.sh: bad namespace name '$ns'" >&2; exit 2 ;;
esac

tap=tap0; mtu=1500; host_ip=10.0.0.1/24; mac=02:00:00:00:00:01
while [ $# -gt 0 ]; do
  case "$1" in
    --mtu) mtu="${2:?}"; shift ;;
    --tap) tap="${2:?}"; shift ;;
    --host-ip) host_ip="${2:?}"; shift ;;
    --mac) mac="${2:?}"; shift ;;
    *) usage ;;
  esac
  shift
done

in_ns() { ip netns exec "$ns" "$@"; }
have_ns() { ip netns list | awk '{print $1}' | grep -qxF "$ns"; }

case "$cmd" in
  up)
    [ "$(id -u)" = 0 ] || { echo "netns.sh: needs root (ip netns, ip tuntap)" >&2; exit 1; }
    have_ns || ip netns add "$ns"
    # If anything below fails, do not leave a half-made namespace behind.
    trap 'echo "netns.sh: setting up $ns failed; removing it" >&2; ip netns del "$ns" 2>/dev/null || true' ERR
    in_ns ip link set lo up
    # IPv6 off before the TAP exists, so it never gets a link-local address or sends DAD.
    in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    in_ns sysctl -qw net.ipv4.tcp_congestion_control=cubic 2>/dev/null || true
    if ! in_ns ip link show "$tap" >/dev/null 2>&1; then
      # Persistent, single queue, no packet-information header: pktstack attaches with
      # IFF_TAP|IFF_NO_PI, which matches.
      in_ns ip tuntap add dev "$tap" mode tap
    fi
    in_ns ip link set "$tap" address "$mac" mtu "$mtu"
    in_ns ip addr flush dev "$tap"
    in_ns ip addr add "$host_ip" dev "$tap"
    in_ns ip link set "$tap" up
    trap - ERR
    echo "$ns: $tap $mac $host_ip mtu $mtu (run the stack with: ip netns exec $ns ...)"
    ;;
  down)
    if have_ns; then ip netns del "$ns"; fi
    ;;
  status)
    have_ns || { echo "$ns: no such namespace" >&2; exit 1; }
    in_ns ip -br link show "$tap"
    in_ns ip -br -4 addr show "$tap"
    ;;
  *) usage ;;
esac
