/* privs — what the box process holds: the capability, no_new_privs and
 * seccomp lines of /proc/self/status (CapEff=0000000000000000, ...), its
 * uids and user name, nosuid/nodev on the mounts it can write or exec
 * from, and what a setuid-root binary gains when run: it is started with
 * LD_SHOW_AUXV=1, which the dynamic loader honours only when the exec was
 * not privileged, so setuid_euid=1000 setuid_secure=0 means it gained
 * nothing; setuid_euid=none means the loader went into secure mode. */
#include "prog.h"

#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

static void status_lines(void)
{
    static const char *const keys[] = {"CapInh", "CapPrm",     "CapEff", "CapBnd",
                                       "CapAmb", "NoNewPrivs", "Seccomp"};
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) {
        report("status", -1);
        return;
    }
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            size_t n = strlen(keys[i]);
            if (strncmp(line, keys[i], n) == 0 && line[n] == ':') {
                char value[64] = "";
                sscanf(line + n + 1, " %63s", value);
                sayf(keys[i], "%s", value);
            }
        }
    }
    fclose(f);
}

static void mount_flags(const char *name, const char *path)
{
    struct statvfs sv;
    char key[64];
    if (statvfs(path, &sv) < 0) {
        snprintf(key, sizeof(key), "mount_%s", name);
        report(key, -1);
        return;
    }
    snprintf(key, sizeof(key), "nosuid_%s", name);
    sayf(key, "%d", (sv.f_flag & ST_NOSUID) != 0);
    snprintf(key, sizeof(key), "nodev_%s", name);
    sayf(key, "%d", (sv.f_flag & ST_NODEV) != 0);
}

/* Finds "NAME: value" in the loader's auxv dump; "none" when absent. */
static void auxv_value(const char *out, const char *name, const char *key)
{
    const char *p = strstr(out, name);
    long v;
    if (p && sscanf(p + strlen(name), ": %ld", &v) == 1)
        sayf(key, "%ld", v);
    else
        sayf(key, "none");
}

static void run_setuid(void)
{
    static const char *const bins[] = {"/usr/bin/passwd", "/usr/bin/su", "/usr/bin/mount",
                                       "/usr/bin/chfn"};
    const char *bin = NULL;
    struct stat st;
    for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]) && !bin; i++)
        if (stat(bins[i], &st) == 0 && (st.st_mode & S_ISUID))
            bin = bins[i];
    sayf("setuid_bin", "%s", bin ? bin : "none");
    if (!bin)
        return;
    int p[2];
    if (pipe(p) < 0)
        return;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        dup2(p[1], STDERR_FILENO);
        char *const argv[] = {(char *)bin, "--help", NULL};
        char *const envp[] = {"LD_SHOW_AUXV=1", "PATH=/usr/bin:/bin", NULL};
        execve(bin, argv, envp);
        _exit(127);
    }
    close(p[1]);
    static char out[65536];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof(out) - 1 && (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    waitpid(pid, NULL, 0);
    auxv_value(out, "AT_EUID", "setuid_euid");
    auxv_value(out, "AT_SECURE", "setuid_secure");
}

int main(void)
{
    status_lines();
    sayf("uid", "%d", (int)getuid());
    sayf("euid", "%d", (int)geteuid());
    sayf("gid", "%d", (int)getgid());
    struct passwd *pw = getpwuid(getuid());
    sayf("user", "%s", pw ? pw->pw_name : "none");
    sayf("home", "%s", pw ? pw->pw_dir : "none");
    mount_flags("usr", "/usr");
    mount_flags("workdir", ".");
    mount_flags("tmp", "/tmp");
    run_setuid();
    sayf("euid_after", "%d", (int)geteuid());
    return 0;
}
