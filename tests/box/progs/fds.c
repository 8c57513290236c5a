/* fds — probes descriptors 3..65535 with fcntl(F_GETFD) and lists
 * /proc/self/fd: fds=0,1,2 and proc_fds=0,1,2 when nothing leaked in. */
#include "prog.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>

int main(void)
{
    char list[1024] = "";
    size_t len = 0;
    for (int fd = 0; fd < 65536 && len < sizeof(list) - 16; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", len ? "," : "", fd);
    sayf("fds", "%s", list);

    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        report("proc_fds", -1);
        return 1;
    }
    int self = dirfd(d);
    int seen[1024], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024)
        if (e->d_name[0] != '.' && atoi(e->d_name) != self)
            seen[n++] = atoi(e->d_name);
    closedir(d);
    /* readdir order is the kernel's; sort for a stable line. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && seen[j - 1] > seen[j]; j--) {
            int t = seen[j];
            seen[j] = seen[j - 1];
            seen[j - 1] = t;
        }
    len = 0;
    list[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", i ? "," : "", seen[i]);
    sayf("proc_fds", "%s", list);
    return 0;
}
