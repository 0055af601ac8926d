#!/usr/bin/env bash
# build-guest-kit.sh builds the test guest ovnrun boots in QEMU: a Debian
# kernel (linux-image-amd64, fetched with apt-get download and unpacked with
# dpkg-deb -x, never installed) and an initramfs of busybox-static plus the
# virtio modules, packed with `busybox cpio -o -H newc`. The guest's init
# brings up every NIC, present at boot or hot-plugged later, and keeps a
# busybox udhcpc running on each; it prints "ovnrun-guest: IFACE ADDRESS" on
# the serial console when a lease is bound.
#
#   scripts/build-guest-kit.sh [DIR]     (default $OVNRUN_GUEST_KIT or
#                                         /var/cache/ovnrun/guest-kit)
#
# DIR then holds vmlinuz, initrd.img and kit.version. A kit already built by
# this revision of the script is reused as it is, so calling this again
# costs nothing. Boot it with vm(..., kernel=DIR/vmlinuz,
# initrd=DIR/initrd.img, cmdline="console=ttyS0"); see docs/vms.md.
set -euo pipefail

KIT_REV=1
out=${1:-${OVNRUN_GUEST_KIT:-/var/cache/ovnrun/guest-kit}}

if [[ -s $out/vmlinuz && -s $out/initrd.img && -f $out/kit.version ]] &&
	grep -qx "rev=$KIT_REV" "$out/kit.version"; then
	echo "build-guest-kit: $out is up to date"
	exit 0
fi

for bin in apt-get apt-cache dpkg-deb; do
	command -v "$bin" >/dev/null || { echo "build-guest-kit: $bin not found (Debian or Ubuntu needed)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/ovnrun-kit.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
chmod 0755 "$work" # apt-get download runs as _apt where it can

# linux-image-amd64 is a metapackage: download the kernel package it names.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
kpkg=$(kernel_package)
if [[ -z $kpkg ]] && ((EUID == 0)); then
	apt-get update -q >/dev/null # fresh machines have no package lists yet
	kpkg=$(kernel_package)
fi
if [[ -z $kpkg ]]; then
	echo "build-guest-kit: apt knows no linux-image-amd64; run apt-get update first" >&2
	exit 1
fi
echo "build-guest-kit: fetching $kpkg and busybox-static"
apt-get download -q "$kpkg" busybox-static >download.log 2>&1 || { cat download.log >&2; exit 1; }
mkdir kernel bb
dpkg-deb -x "$kpkg"_*.deb kernel
dpkg-deb -x busybox-static_*.deb bb
kver=${kpkg#linux-image-}
bb=$work/bb/bin/busybox
[[ -x $bb ]] || { echo "build-guest-kit: busybox-static has no bin/busybox" >&2; exit 1; }

root=$work/root
mkdir -p "$root"/{bin,dev,etc,lib/modules,proc,run,sys,tmp}
cp "$bb" "$root/bin/busybox"

# The virtio modules, in load order (dependencies first). Compressed
# modules (newer Debian kernels) are unpacked: busybox insmod reads plain
# ELF only.
mods=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	failover net_failover virtio_net virtio_blk virtio_console)
moddir=kernel/lib/modules/$kver
: >"$root/lib/modules/load"
for m in "${mods[@]}"; do
	f=$(find "$moddir" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -n1)
	if [[ -z $f ]]; then
		# Built into this kernel, or absent from it: nothing to load.
		continue
	fi
	case $f in
	*.xz) xz -dc "$f" >"$root/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$root/lib/modules/$m.ko" ;;
	*) cp "$f" "$root/lib/modules/$m.ko" ;;
	esac
	echo "$m" >>"$root/lib/modules/load"
done

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /run
# Load the modules, retrying those whose dependencies came later.
left=$(cat /lib/modules/load)
for pass in 1 2 3; do
	again=
	for m in $left; do
		insmod /lib/modules/$m.ko 2>/dev/null || again="$again $m"
	done
	left=$again
done
[ -n "$left" ] && echo "ovnrun-guest: could not load:$left"
ip link set lo up
hostname ovnrun-guest
echo "ovnrun-guest: up"
# Every NIC, present at boot or hot-plugged later, gets a udhcpc that keeps
# its lease; -A 1 retries a second after a failed attempt, forever.
while true; do
	for d in /sys/class/net/*; do
		n=${d##*/}
		[ "$n" = lo ] || [ -e /run/dhcp.$n ] && continue
		: >/run/dhcp.$n
		ip link set "$n" up
		echo "ovnrun-guest: $n $(cat $d/address) dhcp"
		udhcpc -f -i "$n" -s /etc/udhcpc.script -T 1 -A 1 -t 3 >/dev/null 2>&1 &
	done
	sleep 1
done
INIT
chmod 0755 "$root/init"

cat >"$root/etc/udhcpc.script" <<'SCRIPT'
#!/bin/sh
# udhcpc's hook: configure the address and print it on the console; it
# never touches /etc/resolv.conf.
case $1 in
deconfig)
	ip addr flush dev "$interface"
	;;
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	if [ -n "$router" ]; then
		ip route replace default via "${router%% *}" dev "$interface"
	fi
	echo "ovnrun-guest: $interface $ip/${mask:-24}" >/dev/console
	;;
esac
exit 0
SCRIPT
chmod 0755 "$root/etc/udhcpc.script"

mkdir -p "$out"
(cd "$root" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc 2>/dev/null) | gzip -9 >"$work/initrd.img"
cp "kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
install -m 0644 "$work/vmlinuz" "$out/vmlinuz.new"
install -m 0644 "$work/initrd.img" "$out/initrd.img.new"
mv "$out/vmlinuz.new" "$out/vmlinuz"
mv "$out/initrd.img.new" "$out/initrd.img"
printf 'rev=%s\nkernel=%s\nbusybox=%s\n' "$KIT_REV" "$kpkg" "$(dpkg-deb -f busybox-static_*.deb Version)" >"$out/kit.version"
echo "build-guest-kit: built $out (kernel $kver)"
