# batch.sh (guest): several guest test scripts in one boot, so the kernels that run only
# the integrity subset boot once rather than once per script (tests/run.sh, run_vm_batch).
# Usage: bash /twinbench/lib/batch.sh NAME[:subset]...
# Each script runs in turn as it would alone (":subset" exports TWINBENCH_SUBSET=integrity
# for it); its output goes to /out/NAME.out and to the console, its exit status to
# /out/NAME.rc, and the kernel log lines it caused (from a mark written before it starts)
# to /out/NAME.dmesg, where the host checks them for kernel problems per script, and its
# wall time in seconds to /out/NAME.secs.
# Exit status: 0 when every script exited 0.
# shellcheck shell=bash
. /twinbench/lib/guest.sh

status=0
for spec in "$@"; do
	name=${spec%%:*}
	rm -f "/out/$name.out" "/out/$name.rc" "/out/$name.dmesg" "/out/$name.secs"
	mark=$(klog_mark)
	start=$SECONDS
	echo "# batch: vm/$name starts"
	(
		[ "$spec" = "$name:subset" ] && export TWINBENCH_SUBSET=integrity
		exec bash "/twinbench/tests/$name.sh"
	) 2>&1 | tee "/out/$name.out"
	rc=${PIPESTATUS[0]}
	klog_since "$mark" >"/out/$name.dmesg"
	echo $((SECONDS - start)) >"/out/$name.secs"
	echo "$rc" >"/out/$name.rc"
	echo "# batch: vm/$name exited $rc"
	[ "$rc" = 0 ] || status=1
done
exit "$status"
