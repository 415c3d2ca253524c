# batch.sh (guest): several guest test scripts in one boot, so the kernels that run only
# the integrity subset boot once rather than once per script (tests/run.sh, run_vm_batch).
# Usage: bash /twinbench/lib/batch.sh NAME[:subset]...
# Each script runs in turn as it would alone (":subset" exports TWINBENCH_SUBSET=integrity
# for it); its output goes to /out/NAME.out and to the console, its exit status to
# /out/NAME.rc, and the kernel log lines it caused (from a mark written before it starts)
# to /out/NAME.dmesg, where the host checks them for kernel problems per script, and its
# wall time in seconds to /out/NAME.secs.
# Each script starts with the modules a fresh boot has: those a script leaves loaded are
# unloaded after it (said in a comment line), before its kernel log is read, so their removal
# is charged to it. A module left loaded changes what the next one sees: a module keeps the
# kernel's bug-table entries of its own module_init code after that code is freed, and a
# module loaded later into the freed pages can then not be probed where an old entry points
# (on 6.12, after nvme.sh left safenvme loaded, safenull's queue_rq adapter sat on one, from
# a WARN_ONCE then inlined from the safe layer's safe_err into safenvme's init: its kprobe
# got EINVAL; the layer's report is out of line now).
# Exit status: 0 when every script exited 0.
# shellcheck shell=bash
. /twinbench/lib/guest.sh

# loaded_modules: the names of the loaded modules, one a line.
loaded_modules() { cut -d' ' -f1 /proc/modules; }

# unload_since FILE NAME: unload the modules loaded now that FILE (loaded_modules before
# script NAME) does not list, users before the modules they use; prints what NAME left
# loaded and what stays.
unload_since() {
	local new mod again=1 left
	new=$(loaded_modules | grep -v -x -F -f "$1")
	[ -n "$new" ] || return 0
	while [ "$again" = 1 ]; do
		again=0
		for mod in $(loaded_modules | grep -v -x -F -f "$1"); do
			rmmod "$mod" 2>/dev/null && again=1
		done
	done
	left=$(loaded_modules | grep -v -x -F -f "$1")
	echo "# batch: vm/$2 left modules loaded: $(echo $new); unloaded${left:+ but for: $(echo $left)}"
}

status=0
for spec in "$@"; do
	name=${spec%%:*}
	rm -f "/out/$name.out" "/out/$name.rc" "/out/$name.dmesg" "/out/$name.secs"
	loaded_modules >/tmp/batch-modules
	mark=$(klog_mark)
	start=$SECONDS
	echo "# batch: vm/$name starts"
	(
		[ "$spec" = "$name:subset" ] && export TWINBENCH_SUBSET=integrity
		exec bash "/twinbench/tests/$name.sh"
	) 2>&1 | tee "/out/$name.out"
	rc=${PIPESTATUS[0]}
	unload_since /tmp/batch-modules "$name" | tee -a "/out/$name.out"
	klog_since "$mark" >"/out/$name.dmesg"
	echo $((SECONDS - start)) >"/out/$name.secs"
	echo "$rc" >"/out/$name.rc"
	echo "# batch: vm/$name exited $rc"
	[ "$rc" = 0 ] || status=1
done
exit "$status"
