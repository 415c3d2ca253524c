#!/bin/bash
# kernels.sh: the kernels twinbench supports, taken from Debian's packages, each with a build
# environment that matches it, all cached outside the tree in $TWINBENCH_CACHE (default
# /var/cache/twinbench). Nothing is installed on the host: the .debs are downloaded and
# unpacked into the cache, and a kernel's modules build in a debootstrapped chroot of its
# Debian suite (or on the host when the host already is that suite) with the compiler the
# kernel's headers name. For a kernel built with CONFIG_RUST=y, the environment also holds
# that kernel's own source tree, prepared from Debian's .config and Module.symvers, so that
# Rust modules (the in-tree rnull among them) build out of tree against it.
#
# Usage: scripts/kernels.sh COMMAND
#   lines              the supported release lines, oldest first
#   default            the line make bench and make test use when KERNEL= is not given
#   fetch [LINE]...    create whatever is missing for LINE (default: every line); one progress
#                      line per stage with its time; a second call does nothing
#   env LINE           print the path of LINE's kernel.env (its facts, key=value), or one line
#                      on stderr saying what is wrong and what to run
#   build LINE         build this tree's modules for LINE, C and Rust warnings as errors (W=1),
#                      into build/kernels/LINE/ko/; where the kernel has Rust, against its
#                      prepared tree, so Kbuild's "ifdef CONFIG_RUST / obj-m += x.o" folders
#                      build too, and upstream rnull as rnull_mod
#   run LINE CMD...    run CMD in LINE's build environment, where this tree and the cache are
#                      at their own paths
#   line-of RELEASE    the line whose cached kernel is RELEASE (none: exit status 1)
#   host-rust KDIR     host mode's Rust decision for the headers KDIR, one line: "tree PATH",
#                      "prepare VERSION SUITE" or "skip WHY"
#   host-prepare KDIR  prepare the Rust tree of the running Debian Rust-enabled kernel (the
#                      recipe of line 7) in $TWINBENCH_CACHE/host/RELEASE
#   host-build KDIR    host mode's module build in this tree (make modules), with the Rust
#                      twins where host-rust allows them, else one line saying why not
# kernel.env keys: line suite release package version image modroot config kdir env cc
#   cc_version rustc_version bindgen_version rust_kdir (the last three empty without Rust),
#   and boot_args (kernel arguments every boot of the line gets; only 7-debug has one).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${TWINBENCH_CACHE:-/var/cache/twinbench}
mirror=${TWINBENCH_MIRROR:-http://deb.debian.org/debian}
security_mirror=${TWINBENCH_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# line:suite:apt target release. The line names a release series, never a point release:
# the packages say which release that is today. A target "from-LINE" is a debug kernel built
# from LINE's prepared source (scripts/debug-kernel.sh); that line (lockdep, KASAN, DEBUG_LIST,
# DEBUG_OBJECTS_TIMERS) is opt-in (TWINBENCH_DEBUG_KERNEL=1) until its build and its tests fit
# make test's time budget on 2 cores.
LINES="6.1:bookworm:bookworm 6.12:trixie:trixie 7:trixie:trixie-backports"
[ "${TWINBENCH_DEBUG_KERNEL:-0}" = 1 ] && LINES="$LINES 7-debug:trixie:from-7"
# The newest line, so runs measure today's kernel and its Rust arm.
DEFAULT_LINE=7
# What every build environment holds besides the kernel's own compiler.
ENV_PACKAGES="make bc bison flex libelf-dev libssl-dev openssl dwarves python3 kmod xz-utils"
ENV_PACKAGES="$ENV_PACKAGES zstd cpio libc6-dev binutils perl"
# And what a kernel with CONFIG_RUST=y adds (versions checked against its .config).
RUST_PACKAGES="rustc rust-src bindgen libclang-dev"

# die WHY: one line on stderr (on a line of its own when a stage's line is open), exit 1.
die() {
	[ "$stage_open" = 1 ] && echo
	echo "kernels: $*" >&2
	exit 1
}

line_field() {
	local l
	for l in $LINES; do
		[ "${l%%:*}" = "$1" ] && { echo "$l" | cut -d: -f"$2"; return 0; }
	done
	return 1
}

check_line() {
	line_field "$1" 1 >/dev/null ||
		die "unknown kernel line '$1' (expected one of: $(lines_list))"
}

lines_list() {
	local l
	for l in $LINES; do printf '%s ' "${l%%:*}"; done | sed 's/ $//'
}

host_suite() {
	sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null
}

# The root of SUITE's build environment: / on a host of that suite, else its chroot.
env_root() {
	if [ "$(host_suite)" = "$1" ]; then echo /; else echo "$cache/env/$1"; fi
}

kv() {
	sed -n "s/^$1=//p" "$2" | head -n 1
}

# Run a shell command in the environment ROOT, with the cache and this tree (and whatever is
# mounted below them, as the kernel cache is in tests/host/fresh.sh) visible at their
# own paths. The mounts live in a private mount namespace and vanish with it.
in_root() {
	local root=$1
	shift
	if [ "$root" = / ]; then
		env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root LC_ALL=C bash -c "$*"
		return
	fi
	mkdir -p "$root$cache" "$root$top" "$root/proc"
	unshare -m --propagation private bash -c '
		set -e
		mount --rbind "$2" "$1$2"
		mount --rbind "$3" "$1$3"
		mount -t proc proc "$1/proc"
		exec chroot "$1" /usr/bin/env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root \
			LC_ALL=C DEBIAN_FRONTEND=noninteractive bash -c "$4"' \
		in_root "$root" "$cache" "$top" "$*"
}

stage_start=0 stage_open=0
stage() {
	stage_start=$(date +%s) stage_open=1
	printf 'kernels: %s ... ' "$*"
}
stage_done() {
	stage_open=0
	echo "done in $(( $(date +%s) - stage_start )) s${1:+ ($1)}"
}

# Stage: the debootstrapped chroot of SUITE, with apt pointed at the suite, its updates and
# security archives and its backports.
make_env() {
	local suite=$1 root
	root=$(env_root "$suite")
	[ "$root" = / ] && return 0
	[ -e "$root/.twinbench-env" ] && return 0
	[ "$(id -u)" = 0 ] || die "creating the $suite environment needs root (debootstrap, chroot)"
	command -v debootstrap >/dev/null || die "debootstrap is missing (run scripts/install-deps.sh)"
	stage "$suite environment: debootstrap into $root"
	mkdir -p "$cache/env"
	if [ ! -e "$root.tmp/.debootstrap-done" ]; then
		rm -rf "$root.tmp"
		debootstrap --variant=minbase "$suite" "$root.tmp" "$mirror" \
			>"$cache/env/$suite.log" 2>&1 ||
			die "debootstrap $suite failed (mirror $mirror), see $cache/env/$suite.log"
		touch "$root.tmp/.debootstrap-done"
	fi
	cat >"$root.tmp/etc/apt/sources.list.d/twinbench.sources" <<-EOF
	Types: deb
	URIs: $mirror
	Suites: $suite $suite-updates $suite-backports
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb
	URIs: $security_mirror
	Suites: $suite-security
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	rm -f "$root.tmp/etc/apt/sources.list"
	in_root "$root.tmp" "apt-get -q update" >>"$cache/env/$suite.log" 2>&1 ||
		die "apt-get update in the $suite environment failed, see $cache/env/$suite.log"
	touch "$root.tmp/.twinbench-env"
	mv "$root.tmp" "$root"
	stage_done "$(du -sh "$root" | cut -f1)"
}

# apt options that make TARGET's packages the candidates (a backports target).
apt_opts() {
	[ "$1" = "$2" ] || echo "-o APT::Default-Release=$2"
}

# The linux-* packages PKG needs whose names carry the series RE, PKG included.
closure() {
	local root=$1 opts=$2 re=$3 queue=$4 seen="" p
	while :; do
		set -- $queue
		[ $# -gt 0 ] || break
		p=$1
		shift
		queue="$*"
		case " $seen " in *" $p "*) continue ;; esac
		seen="$seen $p"
		queue="$queue $(in_root "$root" "apt-cache $opts depends --no-recommends --no-suggests \
			--no-conflicts --no-breaks --no-replaces --no-enhances $p" |
			awk '/^ *\|?(Pre)?Depends:/ {print $2}' | tr -d '<>' |
			grep -E "^linux-.*$re" | sort -u | tr '\n' ' ')"
	done
	echo "$seen"
}

# The compilers the kernel configuration CONFIG names: cc, cc_text, rustc_text and
# bindgen_text (the last two empty without CONFIG_RUST=y).
read_compilers() {
	cc_text=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$1")
	cc=${cc_text%% *}
	rustc_text="" bindgen_text=""
	if grep -q '^CONFIG_RUST=y' "$1"; then
		rustc_text=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$1")
		bindgen_text=$(sed -n 's/^CONFIG_BINDGEN_VERSION_TEXT="\(.*\)"$/\1/p' "$1")
	fi
}

# Stage: install read_compilers' compilers in the environment ROOT of SUITE (what WHAT is
# built with; the log goes to DIR) and check their versions are the kernel's.
install_compilers() {
	local root=$1 what=$2 suite=$3 dir=$4 ccpkg=gcc-${cc##*gcc-}
	stage "$what: compilers in the $suite environment ($cc${rustc_text:+, ${rustc_text%% (*}})"
	if [ "$root" = / ]; then
		command -v "$cc" >/dev/null || die "$what needs $cc on this host: apt-get install $ccpkg"
	else
		in_root "$root" "apt-get -q -y install --no-install-recommends $ccpkg $ENV_PACKAGES \
			${rustc_text:+$RUST_PACKAGES}" >"$dir/apt.log" 2>&1 ||
			die "apt-get install in the $suite environment failed, see $dir/apt.log"
	fi
	[ "$(in_root "$root" "$cc --version" | head -n 1)" = "$cc_text" ] ||
		die "$what was built with '$cc_text', the $suite environment has" \
			"'$(in_root "$root" "$cc --version" | head -n 1)'"
	if [ -n "$rustc_text" ]; then
		[ "$(in_root "$root" "rustc --version")" = "$rustc_text" ] ||
			die "$what was built with '$rustc_text', the $suite environment has" \
				"'$(in_root "$root" "rustc --version")'"
		[ -z "$bindgen_text" ] ||
			[ "$(in_root "$root" "bindgen --version" | head -n 1)" = "$bindgen_text" ] ||
			die "$what was built with '$bindgen_text', the $suite environment has" \
				"'$(in_root "$root" "bindgen --version" | head -n 1)'"
	fi
	stage_done "$cc_text"
}

# The prepared-tree recipe: the kernel's own source (apt package PKGSPEC, linux-source-SERIES)
# unpacked into DIR/linux with Debian's .config, Module.symvers and vmlinux from HEADERS,
# prepared for out-of-tree modules in the environment ROOT (apt options OPTS) with
# read_compilers' cc, and checked to keep Debian's .config. WHAT names the kernel in errors.
prepare_rust_tree() {
	local root=$1 opts=$2 pkgspec=$3 series=$4 headers=$5 rel=$6 dir=$7 what=$8 p
	mkdir -p "$dir/debs" "$dir/src" "$dir/linux"
	in_root "$root" "cd '$dir/debs' && apt-get -q $opts download '$pkgspec'" \
		>>"$dir/download.log" 2>&1 ||
		die "cannot download $pkgspec for $what, see $dir/download.log"
	dpkg-deb -x "$dir"/debs/linux-source-"${series}"_*.deb "$dir/src"
	tar -xaf "$dir"/src/usr/src/linux-source-"$series".tar.* -C "$dir/linux" \
		--strip-components=1
	rm -rf "$dir/src" "$dir"/debs/linux-source-*
	for p in .config Module.symvers vmlinux; do
		[ -e "$headers/$p" ] && cp "$headers/$p" "$dir/linux/"
	done
	in_root "$root" "cd '$dir/linux' && make ARCH=x86 CC=$cc HOSTCC=$cc \
		KERNELRELEASE=$rel -j${JOBS:-2} olddefconfig prepare modules_prepare" \
		>"$dir/prepare.log" 2>&1 ||
		die "preparing the $what tree failed, see $dir/prepare.log"
	cmp -s "$dir/linux/.config" "$headers/.config" ||
		die "the prepared $what tree's .config differs from Debian's (see $dir/prepare.log)"
}

# Stages for one line: pick its release, download and unpack its packages, install and check
# its compilers, prepare the Rust tree; the facts go to kernel.env last.
fetch_line() {
	local line=$1 suite target root opts kdir_rel dir facts pkg rel ver series re debs
	local rust_kdir="" p image
	suite=$(line_field "$line" 2)
	target=$(line_field "$line" 3)
	dir=$cache/kernels/$line
	facts=$dir/kernel.env
	[ -e "$facts" ] && return 0
	case "$target" in
	from-*)
		fetch_line "${target#from-}"
		# The debug build takes most of an hour: it holds a lock of its own, so fetches
		# of the other lines (every make modules) need not wait for it.
		flock -u 9
		exec 8>"$cache/kernels/.$line.lock"
		flock 8
		"$top/scripts/debug-kernel.sh" "$line" "${target#from-}"
		flock -u 8
		flock 9
		return ;;
	esac
	[ "$(id -u)" = 0 ] || die "fetching kernel $line needs root (chroot, unpacking into $cache)"
	make_env "$suite"
	root=$(env_root "$suite")
	opts=$(apt_opts "$suite" "$target")

	stage "kernel $line: newest linux-image-amd64 of $target"
	pkg=$(in_root "$root" "apt-cache $opts depends linux-image-amd64" |
		awk '/^ *Depends: linux-image-/ {print $2; exit}')
	[ -n "$pkg" ] || die "no linux-image-amd64 in $target (apt in $root; mirror $mirror)"
	rel=${pkg#linux-image-}
	ver=$(in_root "$root" "apt-cache $opts show --no-all-versions $pkg" |
		sed -n 's/^Version: //p' | head -n 1)
	series=$(echo "$rel" | grep -o -E '^[0-9]+\.[0-9]+')
	re="-${series//./\\.}([.+-]|$)"
	stage_done "$pkg $ver"

	stage "kernel $line: download $pkg and linux-headers-$rel"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp/debs"
	debs="$(closure "$root" "$opts" "$re" "$pkg linux-headers-$rel")"
	in_root "$root" "cd '$dir.tmp/debs' && apt-get -q $opts download $debs" \
		>"$dir.tmp/download.log" 2>&1 ||
		die "cannot download $debs from $target, see $dir.tmp/download.log"
	stage_done "$(ls "$dir.tmp/debs" | wc -l) packages, $(du -sh "$dir.tmp/debs" | cut -f1)"

	stage "kernel $line: unpack into $dir/root"
	for p in "$dir.tmp"/debs/*.deb; do
		dpkg-deb -x "$p" "$dir.tmp/root" || die "cannot unpack $p"
	done
	# Merged /usr (trixie on) puts the modules and the image under usr/lib/modules.
	[ -e "$dir.tmp/root/lib" ] || ln -s usr/lib "$dir.tmp/root/lib"
	image=boot/vmlinuz-$rel
	[ -e "$dir.tmp/root/$image" ] || image=lib/modules/$rel/vmlinuz
	[ -e "$dir.tmp/root/$image" ] || die "$pkg holds neither /boot/vmlinuz-$rel nor /$image"
	[ -d "$dir.tmp/root/lib/modules/$rel/kernel" ] || die "$pkg holds no modules for $rel"
	kdir_rel=usr/src/linux-headers-$rel
	[ -e "$dir.tmp/root/$kdir_rel/.config" ] || die "linux-headers-$rel holds no $kdir_rel/.config"
	# The headers name each other by absolute path; point them at the unpacked copy.
	grep -l -r -s "/usr/src/linux-headers-" "$dir.tmp/root/usr/src"/*/Makefile |
		xargs -r sed -i "s|/usr/src/linux-headers-|$dir/root/usr/src/linux-headers-|g"
	depmod -b "$dir.tmp/root" "$rel"
	stage_done "$(du -sh "$dir.tmp/root" | cut -f1)"

	read_compilers "$dir.tmp/root/$kdir_rel/.config"
	install_compilers "$root" "kernel $line" "$suite" "$dir.tmp"
	if [ -n "$rustc_text" ]; then
		stage "kernel $line: prepare the linux-source-$series tree for Rust modules"
		prepare_rust_tree "$root" "$opts" "linux-source-$series" "$series" \
			"$dir.tmp/root/$kdir_rel" "$rel" "$dir.tmp" "kernel $line"
		rust_kdir=$dir/linux
		stage_done "$(du -sh "$dir.tmp/linux" | cut -f1)"
	fi

	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	cat >"$facts.tmp" <<-EOF
	line=$line
	suite=$suite
	release=$rel
	package=$pkg
	version=$ver
	image=$dir/root/$image
	modroot=$dir/root
	config=$dir/root/$kdir_rel/.config
	kdir=$dir/root/$kdir_rel
	env=$root
	cc=$cc
	cc_version=$cc_text
	rustc_version=$rustc_text
	bindgen_version=$bindgen_text
	rust_kdir=$rust_kdir
	EOF
	mv "$facts.tmp" "$facts"
	echo "kernels: kernel $line ready: $rel ($pkg $ver), $(du -sh "$dir" | cut -f1)"
}

# Check LINE's cache and print its kernel.env; one line on stderr when something is missing.
env_file() {
	local line=$1 facts=$cache/kernels/$1/kernel.env k
	check_line "$line"
	[ -e "$facts" ] || die "kernel $line is not in $cache (run 'make kernels' or 'scripts/kernels.sh fetch $line')"
	for k in image kdir config; do
		[ -e "$(kv "$k" "$facts")" ] ||
			die "kernel $line in $cache is broken: no $(kv "$k" "$facts") (remove $cache/kernels/$line and run 'make kernels')"
	done
	[ -e "$(kv env "$facts")/.twinbench-env" ] || [ "$(kv env "$facts")" = / ] ||
		die "the $(kv suite "$facts") environment $(kv env "$facts") is missing or broken (remove it and $cache/kernels/$line, then run 'make kernels')"
	echo "$facts"
}

# Our module sources: the root Kbuild and every module folder (build outputs are not sources).
SOURCES="Kbuild drivers-raw drivers-safe tests/modules"
EXCLUDES=(--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c'
	--exclude='*.cmd' --exclude='.*.cmd' --exclude='*.a' --exclude=Module.symvers
	--exclude=modules.order --exclude='ablation_*.c' --exclude='.tmp_versions'
	--exclude='*.md')

# Build our modules for LINE from a copy of the sources under build/kernels/LINE, in one pass
# with W=1 and warnings as errors (C and Rust). On a kernel with Rust the pass runs against
# the prepared source tree, whose .config and Module.symvers are Debian's (checked here), so
# the C modules equal those built against the headers and the Rust folders
# (obj-$(CONFIG_RUST) in their Kbuild) build with them; upstream rnull builds from that
# tree's own source as rnull_mod. Rebuilds only when the sources changed.
build_line() {
	local line=$1 facts out src hash cc kdir rust_kdir ko start p
	facts=$(env_file "$line")
	out=$top/build/kernels/$line
	src=$out/src
	cd "$top"
	# shellcheck disable=SC2086
	hash=$( (cat "$facts"; tar -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		"${EXCLUDES[@]}" $SOURCES) | sha256sum | cut -d' ' -f1)
	if [ -e "$out/ko/.sources" ] && [ "$(cat "$out/ko/.sources")" = "$hash" ]; then
		echo "kernels: modules for $line up to date ($(ls "$out"/ko/*.ko | wc -l) in $out/ko)"
		return 0
	fi
	start=$(date +%s)
	cc=$(kv cc "$facts")
	kdir=$(kv kdir "$facts")
	rust_kdir=$(kv rust_kdir "$facts")
	if [ -n "$rust_kdir" ]; then
		for p in .config Module.symvers; do
			cmp -s "$rust_kdir/$p" "$kdir/$p" ||
				die "the prepared kernel $line tree's $p differs from Debian's in $kdir" \
					"(remove $cache/kernels/$line and run 'make kernels')"
		done
		kdir=$rust_kdir
	fi
	rm -rf "$src" "$out/ko"
	mkdir -p "$src" "$out/ko"
	# shellcheck disable=SC2086
	tar -c "${EXCLUDES[@]}" $SOURCES | tar -x -C "$src"
	if ! in_root "$(kv env "$facts")" "make -C '$kdir' M='$src' ARCH=x86 CC=$cc HOSTCC=$cc \
		W=1 KCFLAGS=-Werror KRUSTFLAGS=-Dwarnings -j${JOBS:-2} modules" >"$out/build.log" 2>&1; then
		grep -E 'error|warning' "$out/build.log" | head -n 20 >&2
		die "our modules do not build against kernel $line, see $out/build.log"
	fi
	if [ -n "$rust_kdir" ]; then
		rm -rf "$out/rnull"
		cp -r "$rust_kdir/drivers/block/rnull" "$out/rnull"
		printf 'obj-m += rnull_mod.o\nrnull_mod-y := rnull.o\n' >"$out/rnull/Kbuild"
		in_root "$(kv env "$facts")" "make -C '$rust_kdir' M='$out/rnull' ARCH=x86 CC=$cc \
			HOSTCC=$cc KRUSTFLAGS=-Dwarnings modules" >>"$out/build.log" 2>&1 ||
			die "rnull does not build against kernel $line, see $out/build.log"
	fi
	# Warnings that -Werror does not turn into errors (Kbuild's, modpost's) fail it too.
	if grep -i 'warning' "$out/build.log" >&2; then
		die "the build for kernel $line warned (above), see $out/build.log"
	fi
	find "$src" ${rust_kdir:+"$out/rnull"} -name '*.ko' -exec cp {} "$out/ko/" \;
	for ko in "$out"/ko/*.ko; do
		[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$(kv release "$facts")" ] ||
			die "$ko is not for $(kv release "$facts") (vermagic $(modinfo -F vermagic "$ko"))"
	done
	echo "$hash" >"$out/ko/.sources"
	echo "kernels: built $(ls "$out"/ko/*.ko | wc -l) modules for $line ($(kv release "$facts")) in $(( $(date +%s) - start )) s"
}

# The release the kernel headers (or tree) KDIR build modules for (their vermagic).
kdir_release() {
	sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$1/include/generated/utsrelease.h" 2>/dev/null
}

# Host mode's Rust decision for the kernel headers KDIR, one line on stdout:
#   tree PATH        Rust modules build against PATH (KDIR itself when it is a full build
#                    tree, else the prepared tree host-prepare made for its release)
#   prepare V SUITE  a Debian Rust-enabled kernel (its source package version V, from SUITE):
#                    host-prepare makes its tree with the same recipe as VM mode's line 7
#   skip WHY         no Rust arms: why, and what would enable them
host_rust() {
	local kdir rel root ver suite
	kdir=$(readlink -f "$1" || echo "$1")
	[ -e "$kdir/.config" ] || { echo "skip no kernel configuration in $1 (install the running kernel's headers)"; return; }
	rel=$(kdir_release "$kdir")
	if ! grep -q '^CONFIG_RUST=y' "$kdir/.config"; then
		echo "skip kernel ${rel:-in $1} was built without Rust (no CONFIG_RUST=y in $kdir/.config); a Rust-enabled kernel, such as Debian's trixie-backports 7.x, would enable them"
		return
	fi
	[ -e "$kdir/rust/libkernel.rmeta" ] && { echo "tree $kdir"; return; }
	[ -e "$cache/host/$rel/.twinbench-tree" ] && { echo "tree $cache/host/$rel/linux"; return; }
	# Debian's headers carry their source package's changelog: "linux (VERSION) SUITE; ...".
	root=${kdir%/usr/src/linux-headers-"$rel"}
	ver="" suite=""
	[ "$root" = "$kdir" ] ||
		read -r ver suite < <(zcat "$root/usr/share/doc/linux-headers-$rel/changelog.Debian.gz" \
			2>/dev/null | head -n 1 | sed -n 's/^linux (\([^)]*\)) \([a-z-]*\);.*/\1 \2/p')
	if [ -z "${ver:-}" ]; then
		echo "skip kernel $rel has Rust, but $kdir holds no Rust metadata (rust/libkernel.rmeta) and is no Debian headers package; point KDIR at the kernel's full build tree"
		return
	fi
	echo "prepare $ver $suite"
}

# host-prepare KDIR: the prepared tree for the running Debian Rust-enabled kernel whose
# headers are KDIR, in $cache/host/RELEASE: its suite's environment with the kernel's
# compilers, the linux-source package of exactly its version, Debian's .config,
# Module.symvers and vmlinux from KDIR. Does nothing when the tree is there.
host_prepare() {
	local kdir decision ver target suite rel series dir root opts
	kdir=$(readlink -f "$1")
	decision=$(host_rust "$kdir")
	case "$decision" in
	tree\ *) return 0 ;;
	skip\ *) die "no Rust tree to prepare: ${decision#skip }" ;;
	esac
	read -r _ ver target <<<"$decision"
	suite=${target%-backports}
	rel=$(kdir_release "$kdir")
	series=$(echo "$rel" | grep -o -E '^[0-9]+\.[0-9]+')
	[ "$(id -u)" = 0 ] || die "preparing the Rust tree for $rel needs root (chroot, $cache)"
	dir=$cache/host/$rel
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	make_env "$suite"
	root=$(env_root "$suite")
	opts=$(apt_opts "$suite" "$target")
	read_compilers "$kdir/.config"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	install_compilers "$root" "the running kernel $rel" "$suite" "$dir.tmp"
	stage "the running kernel $rel: prepare linux-source-$series $ver for Rust modules"
	prepare_rust_tree "$root" "$opts" "linux-source-$series=$ver" "$series" "$kdir" "$rel" \
		"$dir.tmp" "running kernel $rel"
	stage_done "$(du -sh "$dir.tmp/linux" | cut -f1)"
	printf 'env=%s\ncc=%s\n' "$root" "$cc" >"$dir.tmp/.twinbench-tree"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}

# host-build KDIR: host mode's module build, in this tree, W=1 with C and Rust warnings as
# errors: against the Rust tree when host_rust has one (preparing it first when it can be),
# else against KDIR with the Rust folders left out and one line saying why.
host_build() {
	local kdir=$1 decision tree env=/ cc="" flags="" v=""
	decision=$(host_rust "$kdir")
	case "$decision" in prepare\ *)
		host_prepare "$kdir"
		decision=$(host_rust "$kdir")
	esac
	case "$decision" in
	tree\ *)
		tree=${decision#tree }
		if [ -e "$(dirname "$tree")/.twinbench-tree" ]; then
			env=$(kv env "$(dirname "$tree")/.twinbench-tree")
			cc=$(kv cc "$(dirname "$tree")/.twinbench-tree")
			flags="ARCH=x86 CC=$cc HOSTCC=$cc"
		fi
		;;
	*)
		echo "kernels: Rust arms skipped: ${decision#skip }" >&2
		tree=$kdir flags="CONFIG_RUST="
		;;
	esac
	[ "${V:-}" = 1 ] && v=V=1
	in_root "$env" "make -C '$tree' M='$top' $flags W=1 KCFLAGS=-Werror KRUSTFLAGS=-Dwarnings \
		$v -j${JOBS:-2} modules"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
lines) lines_list; echo ;;
default) echo "$DEFAULT_LINE" ;;
fetch)
	[ $# -gt 0 ] || set -- $(lines_list)
	for l in "$@"; do check_line "$l"; done
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9
	for l in "$@"; do fetch_line "$l"; done
	;;
env) env_file "${1:?kernels: env needs a LINE}" ;;
line-of)
	for l in $(lines_list); do
		f=$cache/kernels/$l/kernel.env
		[ -e "$f" ] && [ "$(kv release "$f")" = "${1:?kernels: line-of needs a RELEASE}" ] &&
			{ echo "$l"; exit 0; }
	done
	exit 1
	;;
build)
	build_line "${1:?kernels: build needs a LINE}"
	;;
host-rust) host_rust "${1:?kernels: host-rust needs a KDIR}" ;;
host-prepare) host_prepare "${1:?kernels: host-prepare needs a KDIR}" ;;
host-build) host_build "${1:?kernels: host-build needs a KDIR}" ;;
run)
	l=${1:?kernels: run needs a LINE}
	shift
	facts=$(env_file "$l")
	in_root "$(kv env "$facts")" "$*"
	;;
*)
	echo "usage: scripts/kernels.sh lines|default|fetch [LINE]...|env LINE|build LINE|run LINE CMD...|line-of RELEASE" >&2
	exit 2
	;;
esac
