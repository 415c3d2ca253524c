#!/bin/sh
# mirror.sh: print the Debian mirror this machine's apt uses, for the chroots the suite makes
# with debootstrap (the Rust kernel's, the fresh-machine check's), so they fetch from the same
# place as the host. Exits 1 with a message when the apt sources name none.
set -eu
mirror=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "mirror: cannot find the Debian mirror in the apt sources" >&2; exit 1; }
echo "$mirror"
