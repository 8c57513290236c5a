/* privileged_ops — what needs a privilege the box must not have: raising a
 * hard rlimit above the box's, mknod of a device, sethostname,
 * setdomainname, setuid(0), setgroups. Prints the hard limits it found and
 * NAME=0|ERRNO for each attempt. */
#include "prog.h"

#include <grp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static void raise_hard(const char *name, int resource)
{
    struct rlimit rl;
    char key[64];
    getrlimit(resource, &rl);
    snprintf(key, sizeof(key), "%s_hard", name);
    if (rl.rlim_max == RLIM_INFINITY)
        sayf(key, "unlimited");
    else
        sayf(key, "%llu", (unsigned long long)rl.rlim_max);
    snprintf(key, sizeof(key), "raise_%s", name);
    if (rl.rlim_max == RLIM_INFINITY) {
        sayf(key, "unlimited");
        return;
    }
    rl.rlim_max += 1;
    report(key, setrlimit(resource, &rl));
}

int main(void)
{
    raise_hard("nofile", RLIMIT_NOFILE);
    raise_hard("fsize", RLIMIT_FSIZE);
    raise_hard("nproc", RLIMIT_NPROC);
    report("mknod", mknod("/tmp/mem", S_IFCHR | 0666, makedev(1, 1)));
    report("sethostname", sethostname("pwned", 5));
    report("setdomainname", setdomainname("pwned", 5));
    report("setuid0", setuid(0));
    gid_t g = 0;
    report("setgroups", setgroups(1, &g));
    return 0;
}
