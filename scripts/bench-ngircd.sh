#!/usr/bin/env bash
# Starts Debian's ngircd on loopback for "ircsock bench", with its flood
# limits lifted for the bench's senders, and runs it in the foreground.
#
#   scripts/bench-ngircd.sh [PORT [DIR]]
#
# PORT defaults to 6668; DIR (default: a new temporary directory) receives
# the generated ngircd.conf. Senders become IRC operators with
#   ircsock bench -oper bench:bench -umode +F ...
# User mode F is ngircd's relaxed flood protection for operators, and
# MaxPenaltyTime = 0 turns its per-command penalty delays off for every
# client, so that neither the senders nor the receivers' PONGs are held
# back. ngircd's own connection limits are lifted (MaxConnections,
# MaxConnectionsIP = 0). Stop it with SIGTERM or Ctrl-C.
set -euo pipefail
port="${1:-6668}"
dir="${2:-$(mktemp -d /tmp/bench-ngircd.XXXXXX)}"
ngircd="$(command -v ngircd || echo /usr/sbin/ngircd)"
[ -x "$ngircd" ] || { echo "bench-ngircd: ngircd not found (apt-get install ngircd)" >&2; exit 1; }
mkdir -p "$dir"
# ngircd drops root for "nobody" after reading its configuration; the
# directory must stay readable to it.
chmod 755 "$dir"
cat >"$dir/ngircd.conf" <<CONF
[Global]
	Name = bench.ngircd.localhost
	Info = ircsock bench
	AdminInfo1 = ircsock bench
	AdminInfo2 = loopback only
	AdminEMail = nobody@invalid
	Listen = 127.0.0.1
	Ports = $port
	MotdPhrase = "ircsock bench"
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxPenaltyTime = 0
	PingTimeout = 300
	PongTimeout = 60
[Options]
	DNS = no
	Ident = no
	PAM = no
	OperCanUseMode = yes
[Operator]
	Name = bench
	Password = bench
CONF
echo "bench-ngircd: $dir/ngircd.conf, listening on 127.0.0.1:$port" >&2
exec "$ngircd" -n -f "$dir/ngircd.conf"
