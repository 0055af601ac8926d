#!/bin/sh
# systemctl for an emulated ovnrun lab host (internal/lab). There is no
# systemd here, so this implements start, stop, restart and is-active for the
# units the seed runbook uses, the way their unit files and ovs-ctl/ovn-ctl
# would, in this host's own directories (OVS_RUNDIR, OVN_RUNDIR..., set by
# the host's sshd). Daemons detach and write pidfiles there; the lab kills
# whatever runs in the host's namespace when the test ends.
set -u
: "${OVS_RUNDIR:?}" "${OVS_DBDIR:?}" "${OVS_LOGDIR:?}" "${OVS_SYSCONFDIR:?}"
: "${OVN_RUNDIR:?}" "${OVN_DBDIR:?}" "${OVN_LOGDIR:?}"

log() { echo "$(date +%T.%N) $*" >>"$OVS_LOGDIR/systemctl.log"; }

# alive PIDFILE: the process exists and is not a zombie.
alive() {
	[ -s "$1" ] || return 1
	pid=$(cat "$1" 2>/dev/null) || return 1
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
	[ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# stop_pid PIDFILE: TERM, then KILL after 5 s; returns once it is gone.
stop_pid() {
	if alive "$1"; then
		pid=$(cat "$1")
		kill -TERM "$pid" 2>/dev/null
		i=0
		while alive "$1" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		if alive "$1"; then
			kill -KILL "$pid" 2>/dev/null
			while alive "$1"; do sleep 0.05; done
		fi
	fi
	rm -f "$1"
}

# wait_sock PATH: until a daemon's socket exists (5 s at most).
wait_sock() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -S "$1" ] || { echo "$1 did not appear" >&2; return 1; }
}

ovs_active() { alive "$OVS_RUNDIR/ovsdb-server.pid" && alive "$OVS_RUNDIR/ovs-vswitchd.pid"; }

ovs_start() {
	ovs_active && return 0
	mkdir -p "$OVS_RUNDIR" "$OVS_DBDIR" "$OVS_LOGDIR" "$OVS_SYSCONFDIR"
	db=$OVS_DBDIR/conf.db
	[ -f "$db" ] || ovsdb-tool create "$db" /usr/share/openvswitch/vswitch.ovsschema || return 1
	if ! alive "$OVS_RUNDIR/ovsdb-server.pid"; then
		ovsdb-server "$db" --detach --no-chdir --pidfile="$OVS_RUNDIR/ovsdb-server.pid" \
			--unixctl="$OVS_RUNDIR/ovsdb-server.ctl" --remote="punix:$OVS_RUNDIR/db.sock" \
			--remote=db:Open_vSwitch,Open_vSwitch,manager_options \
			--log-file="$OVS_LOGDIR/ovsdb-server.log" -vconsole:off -vsyslog:off || return 1
		wait_sock "$OVS_RUNDIR/db.sock" || return 1
	fi
	ovs-vsctl --no-wait init || return 1
	# Like ovs-ctl --system-id=random: a chassis name kept across restarts.
	if [ -z "$(ovs-vsctl --no-wait --if-exists get Open_vSwitch . external_ids:system-id)" ]; then
		idfile=$OVS_SYSCONFDIR/system-id.conf
		[ -s "$idfile" ] || cat /proc/sys/kernel/random/uuid >"$idfile"
		ovs-vsctl --no-wait set Open_vSwitch . external_ids:system-id="$(cat "$idfile")" || return 1
	fi
	if ! alive "$OVS_RUNDIR/ovs-vswitchd.pid"; then
		ovs-vswitchd "unix:$OVS_RUNDIR/db.sock" --detach --no-chdir --pidfile="$OVS_RUNDIR/ovs-vswitchd.pid" \
			--log-file="$OVS_LOGDIR/ovs-vswitchd.log" -vconsole:off -vsyslog:off || return 1
	fi
	lab_underlay
}

# lab_underlay: on a host of an `ovnrun lab` (OVNRUN_LAB_UNDERLAY names its
# underlay interface) there is no kernel datapath. Like a DPDK host, Open
# vSwitch is set up for the userspace datapath: ovn-controller creates br-int
# with ovn-bridge-datapath-type, and ovnrun's bridge() follows it. Userspace
# tunnels leave through an OVS bridge that holds the host's address, so the
# underlay interface goes into br-lab, and its addresses and routes onto
# br-lab (they are written down on the first start: br-lab's tap, and what
# is on it, goes away whenever ovs-vswitchd stops).
lab_underlay() {
	dev=${OVNRUN_LAB_UNDERLAY:-}
	[ -n "$dev" ] || return 0
	if [ -z "$(ovs-vsctl --if-exists get Open_vSwitch . external_ids:ovn-bridge-datapath-type)" ]; then
		ovs-vsctl set Open_vSwitch . external_ids:ovn-bridge-datapath-type=netdev || return 1
	fi
	conf=$OVS_SYSCONFDIR/lab-underlay
	if [ ! -s "$conf" ]; then
		{
			ip -o -4 addr show dev "$dev" | while read -r _ _ _ a _; do echo "addr $a"; done
			ip -4 route show dev "$dev" scope link | while read -r dst _; do echo "route $dst"; done
		} >"$conf.new" && mv "$conf.new" "$conf" || return 1
	fi
	# br-lab takes $dev's MAC, so that the neighbours that learnt it before
	# the move still reach the host.
	mac=$(ip -o link show dev "$dev" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ovs-vsctl --may-exist add-br br-lab -- set Bridge br-lab datapath_type=netdev other-config:hwaddr="\"$mac\"" \
		-- --may-exist add-port br-lab "$dev" || return 1
	# The underlay is IPv4 (above). With IPv6 up, br-lab's link-local
	# address sends duplicate address detection, router solicitations and
	# MLD reports, which the lab's bridge floods to every other host's
	# br-lab: each a miss in ovs-vswitchd there, n^2 in all.
	echo 1 >/proc/sys/net/ipv6/conf/br-lab/disable_ipv6 || return 1
	# One ip process for it all: a host has a route for each lab member
	# outside its subnet. The kernel must not also take the underlay's
	# packets from $dev, nor answer ARP there: br-lab does, through
	# ovs-vswitchd.
	{
		echo "link set br-lab up"
		while read -r kind x; do
			case $kind in
			addr) echo "addr replace $x dev br-lab" ;;
			route) echo "route replace $x dev br-lab" ;;
			esac
		done <"$conf"
		echo "addr flush dev $dev"
		echo "link set $dev arp off"
	} | ip -batch - || return 1
	echo 1 >"/proc/sys/net/ipv4/conf/$dev/rp_filter" &&
		echo 1 >"/proc/sys/net/ipv6/conf/$dev/disable_ipv6"
}

ovs_stop() {
	stop_pid "$OVS_RUNDIR/ovs-vswitchd.pid"
	stop_pid "$OVS_RUNDIR/ovsdb-server.pid"
}

# central_opts: OVN_CTL_OPTS of the host's ovn-central defaults file, the
# lab's /etc/default/ovn-central (under OVN_SYSCONFDIR), which the Debian
# units hand to ovn-ctl. The shim reads the options of a clustered central:
# --db-{nb,sb}-cluster-{local,remote}-{addr,port} and
# --ovn-northd-{nb,sb}-db; it sets opt_NAME for each.
central_opts() {
	OVN_CTL_OPTS=
	f=$OVN_SYSCONFDIR/default/ovn-central
	# shellcheck disable=SC1090
	[ -f "$f" ] && . "$f"
	for o in $OVN_CTL_OPTS; do
		case $o in
		--db-nb-cluster-local-addr=* | --db-nb-cluster-remote-addr=* | --db-sb-cluster-local-addr=* | \
			--db-sb-cluster-remote-addr=* | --db-nb-cluster-local-port=* | --db-nb-cluster-remote-port=* | \
			--db-sb-cluster-local-port=* | --db-sb-cluster-remote-port=* | --ovn-northd-nb-db=* | --ovn-northd-sb-db=*)
			k=${o%%=*}
			k=$(echo "${k#--}" | tr - _)
			eval "opt_$k=\${o#*=}"
			;;
		*) echo "systemctl (ovnrun lab shim): $f: option $o is not supported" >&2; return 1 ;;
		esac
	done
}

# ovn_db nb|sb: one OVN database server, listening on the remotes its
# Connection table names, as ovn-ctl starts it. With a cluster local
# address the database is a RAFT member: created with create-cluster, or,
# given a remote address, joined to the member there (ovn-ctl's ports:
# 6643 for the NB, 6644 for the SB).
ovn_db() {
	name=ovn$1_db
	case $1 in
	nb) schema=ovn-nb table=OVN_Northbound,NB_Global,connections db_name=OVN_Northbound port=6643 ;;
	sb) schema=ovn-sb table=OVN_Southbound,SB_Global,connections db_name=OVN_Southbound port=6644 ;;
	esac
	alive "$OVN_RUNDIR/$name.pid" && return 0
	db=$OVN_DBDIR/$name.db
	eval "local_addr=\${opt_db_$1_cluster_local_addr:-} remote_addr=\${opt_db_$1_cluster_remote_addr:-}"
	eval "local_port=\${opt_db_$1_cluster_local_port:-$port} remote_port=\${opt_db_$1_cluster_remote_port:-$port}"
	schema=/usr/share/ovn/$schema.ovsschema
	created=
	if [ ! -f "$db" ]; then
		created=1
		if [ -z "$local_addr" ]; then
			ovsdb-tool create "$db" "$schema"
		elif [ -z "$remote_addr" ]; then
			ovsdb-tool create-cluster "$db" "$schema" "tcp:$local_addr:$local_port"
		else
			ovsdb-tool join-cluster "$db" "$db_name" "tcp:$local_addr:$local_port" "tcp:$remote_addr:$remote_port"
		fi || return 1
	fi
	ovsdb-server "$db" --detach --no-chdir --pidfile="$OVN_RUNDIR/$name.pid" \
		--unixctl="$OVN_RUNDIR/$name.ctl" --remote="punix:$OVN_RUNDIR/$name.sock" --remote="db:$table" \
		--log-file="$OVN_LOGDIR/ovsdb-server-$1.log" -vconsole:off -vsyslog:off || return 1
	wait_sock "$OVN_RUNDIR/$name.sock" || return 1
	# A cluster is initialized by the member that creates it, then (its one
	# member, the leader at once); a joining member, or one starting again
	# (not rejoined yet), gets the leader's rows.
	if [ -n "$local_addr" ] && { [ -z "$created" ] || [ -n "$remote_addr" ]; }; then
		return 0
	fi
	ovn-${1}ctl --no-leader-only --db="unix:$OVN_RUNDIR/$name.sock" init
}

northd_active() {
	alive "$OVN_RUNDIR/ovnnb_db.pid" && alive "$OVN_RUNDIR/ovnsb_db.pid" && alive "$OVN_RUNDIR/ovn-northd.pid"
}

northd_start() {
	northd_active && return 0
	mkdir -p "$OVN_RUNDIR" "$OVN_DBDIR" "$OVN_LOGDIR"
	central_opts || return 1
	ovn_db nb && ovn_db sb || return 1
	alive "$OVN_RUNDIR/ovn-northd.pid" && return 0
	# In a cluster every member runs northd on all members' databases (so
	# it follows their leaders); one at a time is active, by the SB lock.
	ovn-northd --detach --no-chdir --pidfile="$OVN_RUNDIR/ovn-northd.pid" \
		--ovnnb-db="${opt_ovn_northd_nb_db:-unix:$OVN_RUNDIR/ovnnb_db.sock}" \
		--ovnsb-db="${opt_ovn_northd_sb_db:-unix:$OVN_RUNDIR/ovnsb_db.sock}" \
		--log-file="$OVN_LOGDIR/ovn-northd.log" -vconsole:off -vsyslog:off
}

northd_stop() {
	stop_pid "$OVN_RUNDIR/ovn-northd.pid"
	stop_pid "$OVN_RUNDIR/ovnsb_db.pid"
	stop_pid "$OVN_RUNDIR/ovnnb_db.pid"
}

controller_active() { alive "$OVN_RUNDIR/ovn-controller.pid"; }

controller_start() {
	controller_active && return 0
	ovs_start || return 1 # the unit Requires openvswitch
	mkdir -p "$OVN_RUNDIR" "$OVN_LOGDIR"
	ovn-controller "unix:$OVS_RUNDIR/db.sock" --detach --no-chdir --pidfile="$OVN_RUNDIR/ovn-controller.pid" \
		--log-file="$OVN_LOGDIR/ovn-controller.log" -vconsole:off -vsyslog:off
}

controller_stop() { stop_pid "$OVN_RUNDIR/ovn-controller.pid"; }

# unit NAME: the shim's name for a unit, or nothing.
unit() {
	case ${1%.service} in
	openvswitch | openvswitch-switch) echo ovs ;;
	ovn-northd | ovn-central) echo northd ;;
	ovn-controller | ovn-host) echo controller ;;
	esac
}

[ $# -eq 2 ] || { echo "usage: systemctl start|stop|restart|is-active UNIT" >&2; exit 2; }
verb=$1
u=$(unit "$2")
log "$verb $2"
if [ -z "$u" ]; then
	[ "$verb" = is-active ] && { echo inactive; exit 3; }
	echo "Failed to $verb $2: Unit $2 not found." >&2
	exit 5
fi
case $verb in
start) ${u}_start ;;
stop) ${u}_stop ;;
restart) ${u}_stop && ${u}_start ;;
is-active)
	if ${u}_active; then echo active; else echo inactive; exit 3; fi
	;;
*) echo "systemctl (ovnrun lab shim): $verb is not supported" >&2; exit 2 ;;
esac
rc=$?
[ $rc -eq 0 ] || echo "Job for $2 failed (the lab shim's log: $OVS_LOGDIR)." >&2
log "$verb $2: $rc"
exit $rc
