#!/usr/bin/env bash
# Builds the Orbit test guest from Debian packages only: the bookworm cloud kernel and
# busybox-static, fetched with `apt-get download` and unpacked with `dpkg -x` (nothing is
# installed on this machine). Output in $ORBIT_CACHE/guest/ (default <repo>/.cache/guest/):
#   vmlinuz  initramfs.cpio.gz  initramfs-redis.cpio.gz  manifest.json
# initramfs-redis.cpio.gz is the same guest with Debian's redis-server added (a second cpio
# archive appended, which the kernel unpacks over the first): a real service that clients keep
# one TCP connection to. Its shared libraries are the ones this Debian machine has installed.
# A second run with the same inputs (package versions, this script, rootfs/) does nothing.
# Set ORBIT_GUEST_REBUILD=1 to force a rebuild.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache_root=${ORBIT_CACHE:-$repo/.cache}
out=$cache_root/guest
debs=$out/debs
kernel_meta=linux-image-cloud-amd64
busybox_pkg=busybox-static
# Roots of the module set; their dependencies come from the kernel's own modules.dep.
wanted_modules=(virtio_pci virtio_blk virtio_net virtio_balloon)
# redis-server is in redis-tools; the libraries it needs that a minimal Debian lacks.
service_pkgs=(redis-tools libjemalloc2 liblzf1 libatomic1)

say() { echo "guest: $*" >&2; }
die() { echo "guest: ERROR: $*" >&2; exit 1; }

for tool in apt-cache apt-get dpkg-deb sha256sum gzip; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed; this script needs a Debian system with apt (run scripts/setup.sh)."
done

mkdir -p "$out" "$debs"
exec 9>"$out/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

# One apt-cache call (each costs ~0.5 s): the candidate records of the kernel metapackage and
# busybox. The metapackage's only dependency is the real kernel package, pinned to a version.
resolve() {
  apt-cache show --no-all-versions "$kernel_meta" "$busybox_pkg" 2>/dev/null | awk -v meta="$kernel_meta" -v bb="$busybox_pkg" '
    /^Package:/ { pkg = $2 }
    /^Version:/ && pkg == bb { print "busybox_version=" $2 }
    /^Depends:/ && pkg == meta {
      if (match($0, /linux-image-[0-9][^ ,]*/)) print "kernel_pkg=" substr($0, RSTART, RLENGTH)
      if (match($0, /\(= [^)]*\)/)) print "kernel_version=" substr($0, RSTART + 3, RLENGTH - 4)
    }'
}
kernel_pkg='' kernel_version='' busybox_version=''
resolved=$(resolve)
if ! grep -q '^busybox_version=' <<<"$resolved"; then
  # A fresh machine may have no package lists yet.
  [ "$(id -u)" = 0 ] || die "apt knows no $kernel_meta or $busybox_pkg, and only root can run 'apt-get update'. Run 'sudo apt-get update', then 'npm run guest' again."
  say "apt knows no $kernel_meta or $busybox_pkg; running apt-get update"
  apt-get update -q >&2 || die "apt-get update failed; check the Debian mirrors in /etc/apt/sources.list(.d) and the network."
  resolved=$(resolve)
fi
while IFS='=' read -r key value; do
  case $key in kernel_pkg | kernel_version | busybox_version) printf -v "$key" '%s' "$value" ;; esac
done <<<"$resolved"
[ -n "$kernel_pkg" ] || die "cannot resolve the kernel package behind $kernel_meta (its Depends field names no linux-image-<version>-cloud-amd64 dependency). Are bookworm main and bookworm-security in the apt sources?"
[ -n "$kernel_version" ] || kernel_version=$(apt-cache policy "$kernel_pkg" 2>/dev/null | awk '/Candidate:/ { print $2; exit }')
case $kernel_version in '' | '(none)') die "apt has no installable version of $kernel_pkg; run 'apt-get update' and check the apt sources." ;; esac
[ -n "$busybox_version" ] || die "apt has no installable version of $busybox_pkg; run 'apt-get update' and check the apt sources."

service_versions=$(apt-cache show --no-all-versions "${service_pkgs[@]}" 2>/dev/null | awk '/^Package:/ { pkg = $2 } /^Version:/ { print pkg "=" $2 }')
for pkg in "${service_pkgs[@]}"; do
  grep -q "^$pkg=" <<<"$service_versions" || die "apt has no installable version of $pkg (needed for the redis guest); run 'apt-get update' and check the apt sources."
done

inputs=$(
  {
    echo "$kernel_pkg=$kernel_version" "$busybox_pkg=$busybox_version" $service_versions
    sha256sum <"$0"
    (cd "$here" && find rootfs -type f -o -type l | LC_ALL=C sort | xargs sha256sum)
  } | sha256sum | cut -d' ' -f1
)

if [ "${ORBIT_GUEST_REBUILD:-0}" != 1 ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.cpio.gz" ] && [ -s "$out/initramfs-redis.cpio.gz" ] && [ -f "$out/manifest.json" ] &&
  grep -q "\"inputs\": \"$inputs\"" "$out/manifest.json"; then
  say "up to date in $out ($kernel_pkg $kernel_version, $busybox_pkg $busybox_version)"
  exit 0
fi

# Fetches pkg=version into $debs (kept, so that rebuilds need no network) and prints the path.
fetch_deb() {
  local pkg=$1 version=$2
  local file="$debs/${pkg}_${version//:/%3a}.deb"
  if [ -s "$file" ] && [ "$(dpkg-deb -f "$file" Version 2>/dev/null)" = "$version" ]; then
    echo "$file"
    return
  fi
  rm -f "$debs/${pkg}_"*.deb
  local tmp
  tmp=$(mktemp -d "$debs/.download.XXXXXX")
  local sandbox=()
  # apt's download sandbox user cannot write into root-owned cache directories.
  [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)
  say "downloading $pkg=$version"
  if ! (cd "$tmp" && apt-get "${sandbox[@]}" -q download "$pkg=$version") >&2; then
    rm -rf "$tmp"
    die "cannot fetch $pkg=$version with 'apt-get download' (see apt's message above). Check the network and the Debian mirror, or run 'apt-get update' if the version is gone from the mirror."
  fi
  mv "$tmp"/*.deb "$file"
  rm -rf "$tmp"
  echo "$file"
}

kernel_deb=$(fetch_deb "$kernel_pkg" "$kernel_version")
busybox_deb=$(fetch_deb "$busybox_pkg" "$busybox_version")

work=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "unpacking $(basename "$kernel_deb") and $(basename "$busybox_deb")"
dpkg -x "$kernel_deb" "$work/kernel"
dpkg -x "$busybox_deb" "$work/busybox"
busybox=$work/busybox/bin/busybox
[ -x "$busybox" ] || die "$busybox_deb has no bin/busybox"

release=$(ls "$work/kernel/lib/modules")
[ "$(echo "$release" | wc -l)" = 1 ] || die "expected one kernel release in $kernel_deb, found: $release"
vmlinuz=$work/kernel/boot/vmlinuz-$release
[ -f "$vmlinuz" ] || die "$kernel_deb has no boot/vmlinuz-$release"

# The .deb ships no modules.dep (depmod runs at install time); make one in the unpacked tree.
modroot=$work/kernel/lib/modules/$release
"$busybox" depmod -b "$work/kernel" "$release"
[ -s "$modroot/modules.dep" ] || die "depmod produced no modules.dep for $release"

module_path() {
  awk -F: -v name="$1" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n); if (n == name) { print $1; exit } }' "$modroot/modules.dep"
}
declare -A loaded=()
load_order=()
# Depth-first: every module after all of its dependencies.
add_module() {
  local path=$1 dep
  [ -n "${loaded[$path]:-}" ] && return
  loaded[$path]=1
  for dep in $(awk -F: -v p="$path" '$1 == p { print $2; exit }' "$modroot/modules.dep"); do add_module "$dep"; done
  load_order+=("$path")
}
for name in "${wanted_modules[@]}"; do
  path=$(module_path "$name")
  [ -n "$path" ] || die "kernel $release has no module $name (is virtio built in now? then drop it from wanted_modules in $0)"
  add_module "$path"
done

root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,etc/orbit,lib/modules}
cp -a "$here/rootfs/." "$root/"
cp "$busybox" "$root/bin/busybox"
# Applet links only where the rootfs has no file of that name, so nothing overwrites busybox.
for applet in $("$busybox" --list-full); do
  [ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
module_names=()
for path in "${load_order[@]}"; do
  name=$(basename "$path"); name=${name%%.ko*}
  case $path in *.ko) ;; *) die "module $path is compressed; teach this script to decompress it" ;; esac
  cp "$modroot/$path" "$root/lib/modules/$name.ko"
  module_names+=("$name")
done
printf '%s\n' "${module_names[@]}" >"$root/etc/orbit/modules"
chmod 0755 "$root/init" "$root/orbit/"*

find "$root" -exec touch -h -d @0 {} +
if command -v cpio >/dev/null 2>&1; then
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$work/initramfs.cpio.gz"
else
  (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | "$busybox" cpio -o -H newc) | gzip -9n >"$work/initramfs.cpio.gz"
fi
cp "$vmlinuz" "$work/vmlinuz"

# The redis layer: redis-server and every library the dynamic loader resolves for it, all in
# /lib/x86_64-linux-gnu (on the loader's default path), the loader itself where the ELF names it.
layer=$work/redis
for pkg_version in $service_versions; do
  dpkg -x "$(fetch_deb "${pkg_version%%=*}" "${pkg_version#*=}")" "$work/service-debs"
done
redis=$work/service-debs/usr/bin/redis-check-rdb # redis-server is a link to it
[ -x "$redis" ] || die "redis-tools has no usr/bin/redis-check-rdb (the redis-server binary); has the package changed its layout?"
resolved_libs=$(LD_LIBRARY_PATH=$work/service-debs/usr/lib/x86_64-linux-gnu ldd "$redis")
grep -q 'not found' <<<"$resolved_libs" && die "redis-server needs libraries this machine lacks: $(grep 'not found' <<<"$resolved_libs")"
mkdir -p "$layer/usr/bin" "$layer/lib/x86_64-linux-gnu" "$layer/lib64"
cp "$redis" "$layer/usr/bin/redis-server"
for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' <<<"$resolved_libs"); do cp -L "$lib" "$layer/lib/x86_64-linux-gnu/"; done
interpreter=$(awk '$1 ~ /^\/.*ld-linux/ { print $1 }' <<<"$resolved_libs")
[ -n "$interpreter" ] || die "ldd names no dynamic loader for redis-server"
cp -L "$interpreter" "$layer/lib64/$(basename "$interpreter")"
find "$layer" -exec touch -h -d @0 {} +
(cd "$layer" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$work/redis-layer.cpio.gz"
cat "$work/initramfs.cpio.gz" "$work/redis-layer.cpio.gz" >"$work/initramfs-redis.cpio.gz"

file_entry() {
  printf '"%s": { "sha256": "%s", "bytes": %s }' "$1" "$(sha256sum "$work/$1" | cut -d' ' -f1)" "$(stat -c %s "$work/$1")"
}
modules_json=$(printf '"%s", ' "${module_names[@]}")
cat >"$work/manifest.json" <<EOF
{
  "kernel": { "package": "$kernel_pkg", "version": "$kernel_version", "release": "$release" },
  "busybox": { "package": "$busybox_pkg", "version": "$busybox_version" },
  "modules": [${modules_json%, }],
  "files": { $(file_entry vmlinuz), $(file_entry initramfs.cpio.gz), $(file_entry initramfs-redis.cpio.gz) },
  "services": { "redis": "$(grep '^redis-tools=' <<<"$service_versions" | cut -d= -f2)" },
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "inputs": "$inputs"
}
EOF

# manifest.json last: until it is replaced, the old one no longer matches and forces a rebuild.
mv "$work/vmlinuz" "$out/vmlinuz"
mv "$work/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
mv "$work/initramfs-redis.cpio.gz" "$out/initramfs-redis.cpio.gz"
mv "$work/manifest.json" "$out/manifest.json"
say "built $out: $kernel_pkg $kernel_version (release $release), $busybox_pkg $busybox_version, modules ${module_names[*]}"
