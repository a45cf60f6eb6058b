#!/bin/sh
# Re-capture the rule sets in this directory that a real tool generated (not part of the suite; the
# suite loads the captured files). Needs root, iproute2, util-linux and the tool: Debian's `ufw`, or
# `firewalld` (with dbus). The tool runs in a scratch network namespace with private copies of its
# configuration, so the machine's own firewall and /etc are untouched. Prints the raw rules; the
# header naming the source is added by hand.
#   sh capture.sh ufw-v4 | ufw-v6 | firewalld | firewalld-forward
set -eu
what=${1:?usage: capture.sh ufw-v4|ufw-v6|firewalld|firewalld-forward}
ns=capture-$$
tmp=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

case $what in
ufw-v4|ufw-v6)
  cp -a /etc/ufw "$tmp/ufw"
  cp /etc/default/ufw "$tmp/default-ufw"
  save=iptables-save
  [ "$what" = ufw-v6 ] && save=ip6tables-save
  ip netns exec "$ns" unshare -m --propagation private sh -eu -c '
    mount --bind "$1/ufw" /etc/ufw
    mount --bind "$1/default-ufw" /etc/default/ufw
    {
      ufw default deny incoming
      ufw default allow outgoing
      ufw allow 22/tcp
      ufw limit 7001/tcp
      ufw allow from 10.213.3.12 to any port 7002 proto tcp
      ufw deny 7003/tcp
      ufw allow 80,443/tcp
      ufw allow 53/udp
      ufw reject 7101/udp
      ufw allow from 10.213.3.0/24 to any port 9100 proto tcp
      ufw --force enable
    } >&2
    "$2" | grep -v "^# \(Generated\|Completed\)"' sh "$tmp" "$save"
  ;;
firewalld|firewalld-forward)
  cp -a /etc/firewalld "$tmp/etc"
  mkdir "$tmp/dbus" "$tmp/log"
  ip netns exec "$ns" unshare -m --propagation private sh -eu -c '
    mount --bind "$1/dbus" /run/dbus
    mount --bind "$1/etc" /etc/firewalld
    mount --bind "$1/log" /var/log
    dbus=$(dbus-daemon --system --fork --nopidfile --print-pid)
    firewalld --nofork --nopid >&2 &
    fwd=$!
    i=0
    until firewall-cmd --state >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 150 ]; sleep 0.2; done
    if [ "$2" = firewalld ]; then
      firewall-cmd --add-service=http
      firewall-cmd --add-port=7001/tcp
      firewall-cmd --add-rich-rule="rule family=\"ipv4\" source address=\"10.213.3.12\" port port=\"7002\" protocol=\"tcp\" accept"
    else
      firewall-cmd --add-forward-port=port=7004:proto=tcp:toport=7001
      firewall-cmd --add-forward-port=port=7005:proto=tcp:toport=8080:toaddr=172.17.0.2
      firewall-cmd --add-forward-port=port=7006:proto=tcp:toport=80:toaddr=10.213.3.21
      firewall-cmd --add-masquerade
    fi >&2
    nft list ruleset
    kill "$fwd" "$dbus"' sh "$tmp" "$what"
  ;;
*)
  echo "capture.sh: unknown rule set $what" >&2
  exit 2
  ;;
esac
