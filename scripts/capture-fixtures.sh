#!/usr/bin/env bash
# scripts/capture-fixtures.sh [OUTDIR]
#
# Makes the project's own golden-test captures, test/fixtures/pcap/pktstack-*.pcap, from real
# traffic: the Linux kernel, dnsmasq (DHCP + DNS), busybox udhcpc, iputils ping, curl, dig and
# python3's http.server talk across one veth pair between two network namespaces this script
# creates (pktfx-srv-PID, pktfx-cli-PID; 10.88.0.0/24) and deletes again, also on failure.
# Nothing is sent anywhere else. Every frame is captured by tcpdump on the server's veth end.
# Then tshark's view of every frame is written to test/fixtures/oracle/pktstack-*.jsonl by
# scripts/tshark-oracle.ts (the same reducer and tshark settings as the shared oracle files).
#
# Needs root and the Debian packages: iproute2 tcpdump tshark dnsmasq busybox curl
# bind9-dnsutils iputils-ping ethtool nftables python3, plus the repository's node_modules.
# A rerun produces the same exchanges with new random values (ports, sequence numbers, DHCP xid,
# DNS ids, times): commit each capture together with its oracle file.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$repo/test/fixtures}
mkdir -p "$out/pcap" "$out/oracle"
out=$(cd "$out" && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "capture-fixtures.sh: needs root (network namespaces, tcpdump)" >&2
  exit 1
fi
for tool in ip tcpdump tshark dnsmasq busybox curl dig ping ethtool nft python3; do
  command -v "$tool" >/dev/null || { echo "capture-fixtures.sh: missing $tool" >&2; exit 1; }
done

SRV=pktfx-srv-$$ # server namespace: dnsmasq (DHCP + DNS), http.server
CLI=pktfx-cli-$$ # client namespace: udhcpc, ping, curl, dig
SIF=pfxs0        # veth end in $SRV (the capture point)
CIF=pfxc0        # veth end in $CLI
SMAC=02:88:00:00:00:01
CMAC=02:88:00:00:00:02
SIP=10.88.0.1
CIP=10.88.0.2

work=$(mktemp -d)
pids=()

cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  ip netns del "$SRV" 2>/dev/null
  ip netns del "$CLI" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Background jobs are started with "ip netns exec" directly (not through these functions) so
# that $! is the PID of the server or capture process itself, which cleanup() stops.
S() { ip netns exec "$SRV" "$@"; }
C() { ip netns exec "$CLI" "$@"; }

# ---- topology --------------------------------------------------------------------------------
ip netns add "$SRV"
ip netns add "$CLI"
ip link add "$SIF" netns "$SRV" address "$SMAC" type veth peer name "$CIF" netns "$CLI" address "$CMAC"
for ns in "$SRV" "$CLI"; do
  # IPv4 only, so that no IPv6 neighbour/router solicitation lands in a capture
  ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set lo up
done
# Without offloads the captured TCP/UDP checksums are final and no segment exceeds the MTU.
S ethtool -K "$SIF" tx off rx off tso off gso off gro off >/dev/null
C ethtool -K "$CIF" tx off rx off tso off gso off gro off >/dev/null
ip -n "$SRV" addr add "$SIP/24" dev "$SIF"
ip -n "$SRV" link set "$SIF" up
ip -n "$CLI" link set "$CIF" up

# ---- servers ---------------------------------------------------------------------------------
mkdir -p "$work/www"
printf 'pktstack fixture\n' >"$work/www/index.txt"
python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes((i * 7) & 0xff for i in range(150000)))' "$work/www/big.bin"

ip netns exec "$SRV" dnsmasq --keep-in-foreground --conf-file=/dev/null --user=root --group=root \
  --pid-file="$work/dnsmasq.pid" --log-facility="$work/dnsmasq.log" --log-queries --log-dhcp \
  --interface="$SIF" --bind-interfaces --no-resolv --no-hosts --no-poll \
  --domain=pkt.test --local=/pkt.test/ \
  --host-record=srv.pkt.test,"$SIP" \
  --host-record=multi.pkt.test,10.88.0.11 --host-record=multi.pkt.test,10.88.0.12 \
  --cname=alias.pkt.test,srv.pkt.test \
  --txt-record=srv.pkt.test,"pktstack golden fixture","second string" \
  --mx-host=pkt.test,mx1.pkt.test,10 --mx-host=pkt.test,mx2.pkt.test,20 \
  --srv-host=_http._tcp.pkt.test,srv.pkt.test,8080,0,5 \
  --dhcp-range=10.88.0.50,10.88.0.90,255.255.255.0,30m \
  --dhcp-option=option:router,"$SIP" --dhcp-option=option:dns-server,"$SIP" \
  --dhcp-option=option:domain-search,pkt.test \
  --dhcp-authoritative --dhcp-leasefile="$work/leases" --no-ping &
pids+=($!)
ip netns exec "$SRV" python3 -m http.server 8080 --bind "$SIP" --directory "$work/www" >"$work/http.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do # wait until both servers listen
  S ss -lntu 2>/dev/null | grep -q ":8080 " && S ss -lnu 2>/dev/null | grep -q "$SIP:53 " && break
  sleep 0.1
done

# ---- capture helpers -------------------------------------------------------------------------
cap_pid=
cap_name=
start_capture() {
  cap_name=$1
  ip netns exec "$SRV" tcpdump -i "$SIF" -n -U -s 0 -Z root -w "$work/$cap_name.pcap" 2>"$work/$cap_name.log" &
  cap_pid=$!
  pids+=("$cap_pid")
  for _ in $(seq 50); do
    grep -q 'listening on' "$work/$cap_name.log" 2>/dev/null && break
    sleep 0.1
  done
  sleep 0.3
}
stop_capture() {
  sleep 1
  kill -TERM "$cap_pid" # background jobs of a script ignore SIGINT
  wait "$cap_pid" || true
  cp "$work/$cap_name.pcap" "$out/pcap/pktstack-$cap_name.pcap"
  echo "pktstack-$cap_name.pcap: $(grep -h 'packets captured' "$work/$cap_name.log")"
}
flush_neigh() {
  ip -n "$SRV" neigh flush dev "$SIF"
  ip -n "$CLI" neigh flush dev "$CIF"
}

# ---- 1. DHCP: DISCOVER / OFFER / REQUEST / ACK, renew, RELEASE -------------------------------
cat >"$work/udhcpc.sh" <<'SH'
#!/bin/sh
case "$1" in
  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/${mask:-24}" dev "$interface" ;;
  deconfig) ip addr flush dev "$interface" ;;
esac
exit 0
SH
chmod +x "$work/udhcpc.sh"
start_capture dhcp
ip netns exec "$CLI" busybox udhcpc -i "$CIF" -f -R -t 4 -T 2 -A 1 -s "$work/udhcpc.sh" \
  -x hostname:pktcli -V pktstack-fixture -O domain -O dns -O search >"$work/udhcpc.log" 2>&1 &
dhcp_pid=$!
pids+=("$dhcp_pid")
for _ in $(seq 100); do
  ip -n "$CLI" -4 addr show dev "$CIF" | grep -q 'inet ' && break
  sleep 0.1
done
sleep 0.5
kill -USR1 "$dhcp_pid" # udhcpc: renew now (unicast REQUEST / ACK)
sleep 1
kill -TERM "$dhcp_pid" # -R: DHCPRELEASE on exit
wait "$dhcp_pid" || true
stop_capture

ip -n "$CLI" addr add "$CIP/24" dev "$CIF"
sleep 0.5

# ---- 2. ARP and ICMP: echo with patterns and TTL/TOS, an unanswered ARP, timestamp request -----
flush_neigh
start_capture arp-icmp
C ping -n -c 2 -i 0.2 "$SIP" >/dev/null
C ping -n -c 1 -Q 0x2e -t 7 -p a5 -s 100 "$SIP" >/dev/null # DSCP/ECN byte, TTL, fill pattern
C ping -n -c 1 -W 2 10.88.0.77 >/dev/null 2>&1 || true      # nobody there: ARP only
stop_capture

# ---- 3. IPv4 options and fragments ---------------------------------------------------------------
start_capture ip-opts-frags
C ping -n -c 1 -R "$SIP" >/dev/null
C ping -n -c 1 -T tsonly "$SIP" >/dev/null
C ping -n -c 1 -M dont -s 2500 "$SIP" >/dev/null # 2 fragments each way
C python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(bytes(range(256)) * 14, ("10.88.0.1", 7))'
stop_capture

# ---- 4. TCP: HTTP/1.1 GET with curl, ECN negotiated, and a refused connection (RST) ----------------
C sysctl -q -w net.ipv4.tcp_ecn=1
start_capture tcp-http
C curl -s -o /dev/null "http://$SIP:8080/index.txt"
C curl -s -o /dev/null -H 'X-Fixture: 1' --max-time 2 "http://$SIP:8080/missing" || true # 404
C curl -s -o /dev/null --max-time 2 "http://$SIP:8081/" || true                          # closed → RST
stop_capture
C sysctl -q -w net.ipv4.tcp_ecn=2

# ---- 5. TCP with SACK: the client drops every 7th full-size segment it receives ------------------
# (the drop must happen at the receiver: a drop on the sender's own output is re-sent locally and
# leaves no hole for SACK to report)
C nft add table inet pktfx
C nft add chain inet pktfx in '{ type filter hook input priority 0; }'
C nft add rule inet pktfx in tcp sport 8080 meta length '>' 1000 numgen inc mod 7 == 3 drop
start_capture tcp-sack
C curl -s -o /dev/null "http://$SIP:8080/big.bin"
stop_capture
C nft delete table inet pktfx

# ---- 6. DNS over UDP and TCP: compression, several answers, CNAME, SRV, NXDOMAIN, PTR --------------
start_capture dns
for q in "srv.pkt.test A" "multi.pkt.test A" "alias.pkt.test A" "srv.pkt.test TXT" "pkt.test MX" \
  "_http._tcp.pkt.test SRV" "missing.pkt.test A" "srv.pkt.test AAAA"; do
  # shellcheck disable=SC2086 # $q is "name type"
  C dig @"$SIP" $q +tries=1 +time=2 >/dev/null
done
C dig @"$SIP" -x "$SIP" +tries=1 +time=2 >/dev/null
C dig @"$SIP" multi.pkt.test A +tcp +tries=1 +time=2 >/dev/null
stop_capture

# ---- 7. ICMP port unreachable quoting a DNS query (no DNS server in the client namespace) ---------
start_capture udp-unreachable
S dig @"$CIP" srv.pkt.test A +tries=1 +time=1 >/dev/null 2>&1 || true
stop_capture

# ---- oracle: tshark's view of every frame ------------------------------------------------------
for f in "$out"/pcap/pktstack-*.pcap; do
  name=$(basename "$f" .pcap)
  (cd "$repo" && npx tsx scripts/tshark-oracle.ts "$f") >"$out/oracle/$name.jsonl"
  echo "oracle/$name.jsonl: $(wc -l <"$out/oracle/$name.jsonl") frames"
done
echo "done: $out"
