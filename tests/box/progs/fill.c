/* fill — fills /tmp, /dev/shm and the workdir with data until the write
 * fails, then fills /tmp with empty files until the inodes run out. Each
 * must stop at the box's tmpfs caps with ENOSPC. Prints for each place
 * NAME=ERRNO and NAME_bytes=N (or inodes_count=N), removing what it wrote
 * before the next place. */
#include "prog.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#define MAX_FILES 1000000L

static void fill_file(const char *key, const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    if (fd < 0) {
        report(key, -1);
        return;
    }
    int err = 0;
    long long total = write_until_refused(fd, &err);
    close(fd);
    unlink(path);
    sayf(key, "%s", errname(err));
    char name[64];
    snprintf(name, sizeof(name), "%s_bytes", key);
    sayf(name, "%lld", total);
}

static void fill_inodes(const char *dir)
{
    if (mkdir(dir, 0700) < 0) {
        report("inodes", -1);
        return;
    }
    long count = 0;
    int err = 0;
    char path[256];
    for (; count < MAX_FILES; count++) {
        snprintf(path, sizeof(path), "%s/%ld", dir, count);
        int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);
        if (fd < 0) {
            err = errno;
            break;
        }
        close(fd);
    }
    sayf("inodes", "%s", count == MAX_FILES ? "none" : errname(err));
    sayf("inodes_count", "%ld", count);
}

int main(void)
{
    /* A file-size limit below the tmpfs cap would show as EFBIG, not a kill. */
    signal(SIGXFSZ, SIG_IGN);
    fill_file("tmp", "/tmp/fill");
    fill_file("shm", "/dev/shm/fill");
    fill_file("workdir", "fill.data");
    fill_inodes("/tmp/inodes");
    return 0;
}
