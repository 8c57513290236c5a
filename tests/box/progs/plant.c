/* plant CANARY_DIR — plants traps in the workdir for the host to trip over
 * when it collects files or cleans up (Judge0 CVE-2024-28185/28189):
 * out.txt -> /etc/shadow, canary.txt -> CANARY_DIR/secret.txt, dirlink ->
 * CANARY_DIR, etc -> /etc, a FIFO, dev.txt -> /dev/zero, hard links to a
 * device and to /usr/bin/env, a device node; and result.txt, a plain file
 * the host should collect. Prints NAME=0|ERRNO for each. */
#include "prog.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    char target[512];
    report("out_txt", symlink("/etc/shadow", "out.txt"));
    snprintf(target, sizeof(target), "%s/secret.txt", argv[1]);
    report("canary_txt", symlink(target, "canary.txt"));
    report("dirlink", symlink(argv[1], "dirlink"));
    report("etc", symlink("/etc", "etc"));
    report("fifo", mkfifo("fifo", 0666));
    report("dev_txt", symlink("/dev/zero", "dev.txt"));
    report("hardlink_dev", link("/dev/zero", "zero"));
    report("hardlink_usr", link("/usr/bin/env", "env"));
    report("mknod", mknod("node", S_IFCHR | 0666, makedev(1, 5)));
    int fd = open("result.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    report("result_txt", fd < 0 ? -1 : write(fd, "collected-ok\n", 13));
    return 0;
}
