/* persist write|check HOME — "write" leaves a file in every writable place
 * a run can reach (/tmp, /dev/shm, /var/tmp, HOME, HOME/.cache, the
 * workdir) and prints NAME=0|ERRNO; "check" looks for each and prints
 * NAME=0 when found, NAME=ENOENT when gone. */
#include "prog.h"

#include <fcntl.h>
#include <sys/stat.h>

#define NAME "xxx-persist"

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *home = argv[2];
    char cache_dir[256], places[6][512];
    snprintf(cache_dir, sizeof(cache_dir), "%s/.cache", home);
    snprintf(places[0], sizeof(places[0]), "/tmp/" NAME);
    snprintf(places[1], sizeof(places[1]), "/dev/shm/" NAME);
    snprintf(places[2], sizeof(places[2]), "/var/tmp/" NAME);
    snprintf(places[3], sizeof(places[3]), "%s/" NAME, home);
    snprintf(places[4], sizeof(places[4]), "%s/" NAME, cache_dir);
    snprintf(places[5], sizeof(places[5]), NAME);
    static const char *const keys[] = {"tmp", "dev_shm", "var_tmp", "home", "cache", "workdir"};
    int writing = strcmp(argv[1], "write") == 0;
    if (writing)
        mkdir(cache_dir, 0700);
    for (int i = 0; i < 6; i++) {
        if (writing) {
            int fd = open(places[i], O_CREAT | O_WRONLY | O_TRUNC, 0644);
            report(keys[i], fd < 0 ? -1 : write(fd, "run1\n", 5));
            if (fd >= 0)
                close(fd);
        } else {
            struct stat st;
            report(keys[i], stat(places[i], &st));
        }
    }
    return 0;
}
