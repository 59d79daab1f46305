#!/usr/bin/env bash
# Builds a Debian 12 (bookworm) cloud-style disk image for Orbit's "real OS" guests, from Debian
# packages only and without loop devices, mounts or kernel modules:
#   MBR partition table, one ext4 root partition at 1 MiB, GRUB for BIOS in the MBR + post-MBR gap,
#   linux-image-cloud-amd64, systemd, cloud-init (NoCloud/ConfigDrive; netplan -> systemd-networkd),
#   openssh-server, qemu-guest-agent, redis-server (listening on all addresses, protected-mode off).
# Root password locked; users, keys, hostname and network come from cloud-init.
#
# Usage: build.sh [OUTPUT.qcow2]   (default /var/cache/orbit/real-os/debian-12-orbit.qcow2)
# Knobs: ORBIT_REAL_OS_DISK_MIB (virtual disk size, default 2048), ORBIT_REAL_OS_COMPRESS
# (zlib, the default: any QEMU reads it | zstd: faster to build, needs a QEMU built with libzstd |
# none: about 3x larger), ORBIT_REAL_OS_REBUILD=1 (ignore the cache).
# The build is skipped when OUTPUT exists and OUTPUT.stamp holds the hash of this script + knobs.
# Needs (Debian): mmdebstrap, fdisk (sfdisk), e2fsprogs (1.47, as in bookworm), qemu-utils.
set -euo pipefail

out=${1:-/var/cache/orbit/real-os/debian-12-orbit.qcow2}
disk_mib=${ORBIT_REAL_OS_DISK_MIB:-2048}
compress=${ORBIT_REAL_OS_COMPRESS:-zlib}
suite=bookworm
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
part_start=2048 # sectors; the gap before it holds GRUB's core.img

packages=(
  linux-image-cloud-amd64 systemd-sysv udev dbus initramfs-tools
  grub-pc-bin # modules under /boot/grub/i386-pc and grub-mkimage, from the image's own GRUB
  cloud-init cloud-guest-utils fdisk netplan.io systemd-resolved
  openssh-server sudo qemu-guest-agent redis-server
  netbase iproute2 iputils-ping procps less ca-certificates
)

stamp=$out.stamp
key=$( { cat "$0"; echo "disk_mib=$disk_mib compress=$compress"; } | sha256sum | cut -d' ' -f1)

human_size() { du -h --apparent-size "$1" | cut -f1; }

if [[ ${ORBIT_REAL_OS_REBUILD:-0} != 1 && -f $out && -f $stamp && $(cat "$stamp") == "$key" ]]; then
  echo "real-os: cached $out (key ${key:0:12}), $(human_size "$out") ($(stat -c %s "$out") bytes)"
  exit 0
fi

[[ $(id -u) == 0 ]] || { echo "real-os: must run as root (mmdebstrap root mode, file ownership)" >&2; exit 1; }
for tool in mmdebstrap sfdisk mkfs.ext4 qemu-img; do
  command -v "$tool" >/dev/null || { echo "real-os: missing $tool (apt-get install mmdebstrap fdisk e2fsprogs qemu-utils)" >&2; exit 1; }
done

t0=$(date +%s)
mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$(dirname "$out")/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work" # lets apt download as _apt (sandboxed) into the rootfs
root=$work/rootfs
disk=$work/disk.raw
fs=$work/root.ext4
uuid=$(cat /proc/sys/kernel/random/uuid)

# --- root filesystem -----------------------------------------------------------------------
# initramfs-tools probes the root device to decide which fsck to include, and there is none in the
# chroot: name the type before the kernel (and its initramfs) is installed.
# Keep copyright files but drop docs, man pages and translations: this is a test guest.
mmdebstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"' \
  --essential-hook='echo FSTYPE=ext4 >"$1/etc/initramfs-tools/conf.d/orbit-fstype"' \
  --customize-hook='chroot "$1" passwd --lock root' \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  "$suite" "$root" \
  "deb $mirror $suite main" \
  "deb $mirror $suite-updates main" \
  "deb $security $suite-security main"

# Per-instance identity is created at first boot (systemd: machine-id; cloud-init: SSH host keys).
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
printf 'UUID=%s\t/\text4\terrors=remount-ro\t0\t1\n' "$uuid" >"$root/etc/fstab"
echo debian >"$root/etc/hostname"
echo LANG=C.UTF-8 >"$root/etc/default/locale"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"

cat >"$root/etc/cloud/cloud.cfg.d/90-orbit.cfg" <<'EOF'
# Orbit passes instance data on a local seed disk; skip probing metadata servers at boot.
datasource_list: [NoCloud, ConfigDrive, None]
# No DSA host key: OpenSSH 9.2 does not use it, and generating it costs seconds under TCG.
ssh_genkeytypes: [rsa, ecdsa, ed25519]
# Only C.UTF-8 exists in the image (no generated locales): cloud-init's default en_US.UTF-8 fails.
locale: C.UTF-8
EOF

# Orbit's tests talk to redis from outside the guest.
sed -i -e 's/^bind .*/bind * -::*/' -e 's/^protected-mode .*/protected-mode no/' "$root/etc/redis/redis.conf"
grep -q '^bind \* -::\*$' "$root/etc/redis/redis.conf" && grep -q '^protected-mode no' "$root/etc/redis/redis.conf"

rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/var/tmp/*

# --- GRUB (BIOS) ---------------------------------------------------------------------------
[[ -e $root/vmlinuz && -e $root/initrd.img ]] || { echo "real-os: no /vmlinuz or /initrd.img symlink in the rootfs" >&2; exit 1; }
mkdir -p "$root/boot/grub/i386-pc"
cp "$root"/usr/lib/grub/i386-pc/*.mod "$root"/usr/lib/grub/i386-pc/*.lst "$root/boot/grub/i386-pc/"
cat >"$root/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
search --no-floppy --fs-uuid --set=root $uuid
menuentry 'Debian GNU/Linux 12 (Orbit)' {
  linux /vmlinuz root=UUID=$uuid ro console=tty0 console=ttyS0,115200 consoleblank=0
  initrd /initrd.img
}
EOF
# The /vmlinuz and /initrd.img symlinks follow kernel upgrades, so grub.cfg never needs regenerating.
cat >"$root/tmp/embed.cfg" <<EOF
search --no-floppy --fs-uuid --set=root $uuid
set prefix=(\$root)/boot/grub
EOF
chroot "$root" grub-mkimage -O i386-pc -o /tmp/core.img -c /tmp/embed.cfg -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos ext2 search_fs_uuid normal linux serial terminal
mv "$root/tmp/core.img" "$work/core.img"
cp "$root/usr/lib/grub/i386-pc/boot.img" "$work/boot.img"
rm -f "$root/tmp/embed.cfg"

# --- disk ----------------------------------------------------------------------------------
truncate -s "${disk_mib}M" "$disk"
printf 'label: dos\nunit: sectors\nstart=%d, type=83, bootable\n' "$part_start" | sfdisk -q "$disk"
read -r start sectors < <(sfdisk -d "$disk" | sed -n 's/^.*: start= *\([0-9]*\), size= *\([0-9]*\),.*$/\1 \2/p')
[[ $start == "$part_start" ]]

# metadata_csum_seed and orphan_file are off because bookworm's GRUB 2.06 cannot read the former
# and newer mke2fs versions enable both by default.
truncate -s $((sectors * 512)) "$fs"
mkfs.ext4 -q -F -L root -U "$uuid" -O ^metadata_csum_seed,^orphan_file -d "$root" "$fs"
dd if="$fs" of="$disk" bs=1M seek=$((start * 512 / 1048576)) conv=notrunc,sparse status=none
rm -f "$fs"

# boot.img goes in the MBR's code area (bytes 0..439; the disk signature and partition table stay).
# Its kernel_sector (offset 0x5c) defaults to 1 and diskboot.img's blocklist (the last 12 bytes of
# core.img's first sector) defaults to start=2, with len filled by grub-mkimage: core.img written
# at sector 1 needs no patching. As grub-bios-setup does for a hard disk, NOP the jump at 0x66 that
# skips boot.img's check, so a BIOS passing a floppy number in DL still boots from drive 0x80.
core_sectors=$(( ($(stat -c %s "$work/core.img") + 511) / 512 ))
(( core_sectors < start )) || { echo "real-os: core.img ($core_sectors sectors) does not fit before sector $start" >&2; exit 1; }
[[ $(od -An -tu4 -j $((0x5c)) -N4 "$work/boot.img" | tr -d ' ') == 1 ]]
[[ $(od -An -tu4 -j $((512 - 12)) -N4 "$work/core.img" | tr -d ' ') == 2 ]]
[[ $(od -An -tu2 -j $((512 - 4)) -N2 "$work/core.img" | tr -d ' ') == $((core_sectors - 1)) ]]
printf '\x90\x90' | dd of="$work/boot.img" bs=1 seek=$((0x66)) conv=notrunc status=none
dd if="$work/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none

# --- qcow2 ---------------------------------------------------------------------------------
case $compress in
  zlib) convert_opts=(-O qcow2 -c) ;;
  zstd) convert_opts=(-O qcow2 -c -o compression_type=zstd) ;;
  none) convert_opts=(-O qcow2) ;;
  *) echo "real-os: ORBIT_REAL_OS_COMPRESS must be zlib, zstd or none" >&2; exit 1 ;;
esac
qemu-img convert "${convert_opts[@]}" "$disk" "$work/out.qcow2"
mv "$work/out.qcow2" "$out"
echo "$key" >"$stamp"

t1=$(date +%s)
echo "real-os: built $out in $((t1 - t0)) s: $(human_size "$out") ($(stat -c %s "$out") bytes; virtual ${disk_mib} MiB, root UUID $uuid)"
