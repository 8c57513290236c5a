/* mounts — tries to leave or rebuild the box's filesystem view: setns into
 * a namespace file, mount a tmpfs, umount2 the root and /proc, pivot_root,
 * chroot, and the new mount API (fsopen, open_tree). NAME=ERRNO each. */
#include "prog.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int main(void)
{
    int fd = open("/proc/self/ns/net", O_RDONLY);
    report("open_ns", fd);
    report("setns", setns(fd, CLONE_NEWNET));
    report("mount_tmpfs", mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m"));
    report("mount_proc", mount("proc", "/tmp", "proc", 0, NULL));
    report("umount2_root", umount2("/", MNT_DETACH));
    report("umount2_proc", umount2("/proc", 0));
    mkdir("/tmp/newroot", 0700);
    mkdir("/tmp/newroot/old", 0700);
    report("pivot_root", syscall(SYS_pivot_root, "/tmp/newroot", "/tmp/newroot/old"));
    report("chroot", chroot("/tmp"));
    report("fsopen", syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
    report("open_tree", syscall(SYS_open_tree, AT_FDCWD, "/usr", OPEN_TREE_CLONE));
    return 0;
}
