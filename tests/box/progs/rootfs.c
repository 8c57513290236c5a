/* rootfs — tries to make the root filesystem writable (remount / and /usr
 * read-write) and to write into /usr and /. NAME=0|ERRNO for each. */
#include "prog.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

int main(void)
{
    report("remount_root", mount(NULL, "/", NULL, MS_REMOUNT, NULL));
    report("remount_root_bind", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
    report("remount_usr", mount(NULL, "/usr", NULL, MS_REMOUNT | MS_BIND, NULL));
    report("create_usr", open("/usr/xxx-test-file", O_CREAT | O_WRONLY, 0644));
    report("create_usr_bin", open("/usr/bin/xxx-test-file", O_CREAT | O_WRONLY, 0644));
    report("create_root", open("/xxx-test-file", O_CREAT | O_WRONLY, 0644));
    report("write_env", open("/usr/bin/env", O_WRONLY));
    report("mkdir_usr", mkdir("/usr/xxx-test-dir", 0755));
    return 0;
}
