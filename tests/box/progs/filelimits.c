/* filelimits — writes one file until the write fails (fsize=EFBIG and
 * fsize_bytes=N at RLIMIT_FSIZE) and opens /dev/null until open fails
 * (nofile=EMFILE, nofile_max_fd=N at RLIMIT_NOFILE). */
#include "prog.h"

#include <fcntl.h>
#include <signal.h>

int main(void)
{
    signal(SIGXFSZ, SIG_IGN);
    int fd = open("big", O_CREAT | O_WRONLY | O_TRUNC, 0600);
    int err = 0;
    long long total = write_until_refused(fd, &err);
    close(fd);
    unlink("big");
    sayf("fsize", "%s", errname(err));
    sayf("fsize_bytes", "%lld", total);

    int max_fd = -1;
    for (;;) {
        int f = open("/dev/null", O_RDONLY);
        if (f < 0) {
            err = errno;
            break;
        }
        max_fd = f;
    }
    sayf("nofile", "%s", errname(err));
    sayf("nofile_max_fd", "%d", max_fd);
    return 0;
}
