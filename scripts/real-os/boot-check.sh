#!/usr/bin/env bash
# Boots an image built by build.sh under plain QEMU/TCG (not the lab) and checks it works the way
# a cloud image should: NoCloud seed (hostname, user + SSH key, write_files), root filesystem grown
# by cloud-init, SSH and redis reachable through user-mode networking, qemu-guest-agent answering.
#
# Usage: boot-check.sh [IMAGE]   (default /var/cache/orbit/real-os/debian-12-orbit.qcow2)
# Knobs: MEM (MiB, default 1024), SMP (default 1), NET=dhcp|static (static: network-config v2 with
# STATIC_IP, default 10.0.2.15, gateway 10.0.2.2), SSH_PORT / REDIS_PORT (host ports, default
# 22xxx/23xxx picked from the PID), TIMEOUT (s, default 900), KEEP=1 (keep the work dir),
# HOLD=1 (after the checks, leave the guest running until QEMU exits or this script is killed).
# Needs (Debian): qemu-system-x86, qemu-utils, cloud-image-utils, openssh-client, redis-tools, socat.
set -euo pipefail

img=$(realpath "${1:-/var/cache/orbit/real-os/debian-12-orbit.qcow2}")
mem=${MEM:-1024}
smp=${SMP:-1}
net=${NET:-dhcp}
static_ip=${STATIC_IP:-10.0.2.15}
ssh_port=${SSH_PORT:-$((22000 + $$ % 1000))}
redis_port=${REDIS_PORT:-$((23000 + $$ % 1000))}
timeout=${TIMEOUT:-900}
hostname=orbit-real-os-check
mac=52:54:00:12:34:56

work=$(mktemp -d /var/tmp/real-os-boot.XXXXXX)
qemu_pid=
cleanup() {
  [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null && wait "$qemu_pid" 2>/dev/null || true
  [[ ${KEEP:-0} == 1 ]] && echo "work dir kept: $work" || rm -rf "$work"
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -C orbit-boot-check -f "$work/id"
cat >"$work/user-data" <<EOF
#cloud-config
hostname: $hostname
users:
  - name: orbit
    shell: /bin/bash
    sudo: ALL=(ALL) NOPASSWD:ALL
    ssh_authorized_keys:
      - $(cat "$work/id.pub")
write_files:
  - path: /etc/orbit-boot-check
    content: |
      written by cloud-init write_files
EOF
printf 'instance-id: orbit-check-%s\nlocal-hostname: %s\n' "$$" "$hostname" >"$work/meta-data"
seed_args=()
if [[ $net == static ]]; then
  cat >"$work/network-config" <<EOF
version: 2
ethernets:
  nic0:
    match:
      macaddress: "$mac"
    set-name: eth0
    dhcp4: false
    addresses: [$static_ip/24]
    gateway4: 10.0.2.2
    nameservers:
      addresses: [10.0.2.3]
EOF
  seed_args=(--network-config="$work/network-config")
fi
cloud-localds "${seed_args[@]}" "$work/seed.iso" "$work/user-data" "$work/meta-data"
qemu-img create -q -f qcow2 -b "$img" -F qcow2 "$work/overlay.qcow2" 4G

guest=10.0.2.15
[[ $net == static ]] && guest=$static_ip
start=$(date +%s%N)
qemu-system-x86_64 -accel tcg -m "$mem" -smp "$smp" -display none -no-user-config -nodefaults \
  -serial "file:$work/serial.log" \
  -drive "file=$work/overlay.qcow2,if=virtio,format=qcow2" \
  -drive "file=$work/seed.iso,if=virtio,format=raw,readonly=on" \
  -nic "user,model=virtio-net-pci,mac=$mac,hostfwd=tcp:127.0.0.1:$ssh_port-$guest:22,hostfwd=tcp:127.0.0.1:$redis_port-$guest:6379" \
  -device virtio-serial -chardev "socket,id=qga,path=$work/qga.sock,server=on,wait=off" \
  -device virtserialport,chardev=qga,name=org.qemu.guest_agent.0 &
qemu_pid=$!

elapsed() { local ds=$(( ($(date +%s%N) - start) / 100000000 )); echo "$((ds / 10)).$((ds % 10))"; }
ssh_guest() {
  ssh -i "$work/id" -p "$ssh_port" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o BatchMode=yes -o ConnectTimeout=5 orbit@127.0.0.1 "$@"
}

got=
while [[ $(elapsed | cut -d. -f1) -lt $timeout ]]; do
  kill -0 "$qemu_pid" 2>/dev/null || { echo "FAIL: qemu exited"; tail -40 "$work/serial.log"; exit 1; }
  got=$(ssh_guest -o LogLevel=QUIET hostname 2>/dev/null || true)
  [[ $got == "$hostname" ]] && break
  sleep 2
done
[[ $got == "$hostname" ]] || { echo "FAIL: no SSH after ${timeout}s"; tail -60 "$work/serial.log"; exit 1; }
t_ssh=$(elapsed)
echo "ssh answers after ${t_ssh}s: hostname=$got (mem=${mem}M smp=$smp net=$net)"

pong=
for _ in $(seq 60); do
  pong=$(redis-cli -h 127.0.0.1 -p "$redis_port" PING 2>/dev/null || true)
  [[ $pong == PONG ]] && break
  sleep 1
done
echo "redis PING -> ${pong:-no answer} (at $(elapsed)s)"

# The agent's first reply can take seconds under TCG: keep the connection open while it comes.
qga=$( { printf '{"execute":"guest-sync","arguments":{"id":%d}}\n' $$; sleep 10; } |
  timeout 15 socat - "UNIX-CONNECT:$work/qga.sock" 2>/dev/null | grep -m1 "\"return\": $$" || true)
echo "qemu-guest-agent guest-sync -> ${qga:-no answer}"

ssh_guest -o LogLevel=ERROR 'set -x
  cloud-init status --wait --long | head -5
  systemd-analyze 2>/dev/null | head -1
  df -h / | tail -1
  lsblk -no NAME,SIZE /dev/vda
  cat /etc/orbit-boot-check
  grep -E "growpart|resize" /var/log/cloud-init.log | grep -v "^.*DEBUG.*Running command" | tail -4
  grep -iE "Selected renderer|renderer" /var/log/cloud-init.log | head -2
  ls /etc/netplan/ /run/systemd/network/ 2>/dev/null
  sudo cat /etc/netplan/50-cloud-init.yaml
  ip -4 addr show dev eth0 2>/dev/null || ip -4 addr
  ip route
  networkctl list --no-pager 2>/dev/null
  ls /run/systemd/netif/leases/ 2>/dev/null
  resolvectl dns 2>/dev/null | head -3
  systemctl is-active redis-server ssh qemu-guest-agent systemd-networkd
  systemctl --failed --no-legend --no-pager
  sudo grep -E "WARNING|ERROR" /var/log/cloud-init.log | tail -5
  sudo grep -c . /var/log/cloud-init-output.log
  sudo passwd -S root
  free -m | head -2' 2>&1 | sed 's/^/  guest: /'

if [[ ${HOLD:-0} == 1 ]]; then
  echo "holding; ssh: ssh -i $work/id -p $ssh_port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null orbit@127.0.0.1"
  echo "qga: $work/qga.sock, serial: $work/serial.log"
  wait "$qemu_pid" || true
fi
[[ $pong == PONG ]] && echo "RESULT: OK ssh=${t_ssh}s mem=${mem}M smp=$smp net=$net" || { echo "RESULT: FAIL (redis)"; exit 1; }
