#!/usr/bin/env bash
# install-deps.sh — installs the programs that the tests, the demo and the
# benchmarks run (internal/testenv starts private PostgreSQL and MariaDB
# servers; kcat is for poking at Kafka by hand), when they are missing.
#
# Idempotent and silent when everything is present. As root it installs the
# missing Debian packages with apt-get; otherwise it prints what to install
# and exits 1. It never starts, stops or reconfigures a server that already
# runs: a policy-rc.d that denies service actions is in place during the
# install, and existing configuration files are kept.
set -euo pipefail

declare -a pkgs=()    # Debian packages to install, in order, no duplicates
declare -a reasons=() # what is missing, for the messages

want() { # want PACKAGE REASON
	reasons+=("$2 (package $1)")
	local p
	for p in "${pkgs[@]}"; do [[ $p == "$1" ]] && return 0; done
	pkgs+=("$1")
}

have_cmd() { # have_cmd NAME [DIR...]: NAME is on PATH or executable in one of DIRs
	local name=$1 d
	shift
	command -v "$name" >/dev/null 2>&1 && return 0
	for d in "$@"; do [[ -x $d/$name ]] && return 0; done
	return 1
}

# The PostgreSQL programs' directory, found as internal/testenv finds it.
pg_bindir() {
	local d
	if d=$(pg_config --bindir 2>/dev/null) && [[ -x $d/initdb && -x $d/postgres ]]; then
		echo "$d"
		return
	fi
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [[ -x $d/initdb && -x $d/postgres ]]; then
			echo "$d"
			return
		fi
	done
	echo ""
}

check() {
	pkgs=()
	reasons=()
	local bindir sharedir
	bindir=$(pg_bindir)
	if [[ -z $bindir ]]; then
		want postgresql "initdb and postgres (PostgreSQL server)"
	fi
	if ! have_cmd pg_recvlogical ${bindir:+"$bindir"}; then
		want postgresql "pg_recvlogical"
	fi
	sharedir=""
	if [[ -n $bindir ]]; then
		sharedir=$("$bindir/pg_config" --sharedir 2>/dev/null || true)
		[[ -n $sharedir ]] || sharedir=/usr/share/postgresql/$(basename "$(dirname "$bindir")")
	fi
	if [[ -z $sharedir || ! -f $sharedir/extension/hstore.control || ! -f $sharedir/extension/citext.control ]]; then
		want postgresql-contrib "the hstore and citext extensions"
	fi
	if ! have_cmd mariadb-install-db /usr/bin /usr/local/bin; then
		want mariadb-server "mariadb-install-db"
	fi
	if ! have_cmd mariadbd /usr/sbin /usr/local/sbin; then
		want mariadb-server "mariadbd (MariaDB server)"
	fi
	if ! have_cmd mariadb; then
		want mariadb-client "mariadb (MariaDB client)"
	fi
	if ! have_cmd kcat; then
		want kcat "kcat"
	fi
}

check
if ((${#pkgs[@]} == 0)); then
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: missing:" >&2
	printf '  %s\n' "${reasons[@]}" >&2
	echo "install-deps: as root, run: apt-get install -y --no-install-recommends ${pkgs[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

# Deny every service start/stop/restart during the install, so that the
# servers already running (and their ports) stay as they are. Put back
# whatever policy-rc.d was there before.
policy=/usr/sbin/policy-rc.d
backup=""
if [[ -e $policy ]]; then
	backup=$(mktemp /tmp/policy-rc.d.XXXXXX)
	cp -p "$policy" "$backup"
fi
log=$(mktemp /tmp/install-deps.XXXXXX.log)
restore() {
	if [[ -n $backup ]]; then
		cp -p "$backup" "$policy"
		rm -f "$backup"
	else
		rm -f "$policy"
	fi
}
trap restore EXIT
printf '#!/bin/sh\n# install-deps.sh: no service actions during the install\nexit 101\n' >"$policy"
chmod 755 "$policy"

if ! { apt-get update -q && apt-get install -y -q --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${pkgs[@]}"; } >"$log" 2>&1; then
	echo "install-deps: apt-get failed; the end of $log:" >&2
	tail -n 30 "$log" >&2
	exit 1
fi

check
if ((${#pkgs[@]} != 0)); then
	echo "install-deps: still missing after the install (see $log):" >&2
	printf '  %s\n' "${reasons[@]}" >&2
	exit 1
fi
rm -f "$log"
echo "install-deps: done" >&2
