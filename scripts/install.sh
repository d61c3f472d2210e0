#!/usr/bin/env bash
# Installs everything pktstack's demo, tests and benchmarks use on a fresh Debian machine (as root),
# then the npm dependencies (npm ci also builds the TAP addon and compiles the CLI).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  iproute2 iputils-ping arping ethtool nftables # namespaces, TAP, kernel-side tools
  tshark tcpdump                                # independent decoder (golden tests), captures
  dnsmasq busybox bind9-dnsutils                # DHCP/DNS server, httpd, dig
  ndisc6                                        # ndisc6/rdisc6: IPv6 neighbor and router discovery probes
  socat netcat-openbsd curl hping3 wrk          # traffic from the kernel side
  python3-scapy                                 # deterministic benchmark corpus
  libpcap-dev                                   # builds the `pcap` package (benchmark peer)
  liblwip-dev                                   # lwIP, the C stack we benchmark against
  build-essential python3                       # node-gyp for our N-API addon
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "install.sh: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# node-gyp builds our TAP addon against the installed Node's headers; without a nodedir it would
# try to download them, which fails offline. Debian-style installs keep them under /usr/include/node.
if [ -z "$(npm config get nodedir 2>/dev/null | grep -v '^undefined$')" ] && [ -f /usr/include/node/node_api.h ]; then
  export npm_config_nodedir=/usr
fi
npm ci --no-audit --no-fund
