/* keys store|fetch — "store" tries to leave a secret in the kernel keyring
 * (add_key to the user keyring, a named session keyring) for a later run;
 * "fetch" tries to find it again (request_key, KEYCTL_SEARCH). Both list
 * what /proc/keys shows, one proc_key=DESCRIPTION line per key. */
#include "prog.h"

#include <linux/keyctl.h>
#include <stdio.h>
#include <sys/syscall.h>

#define SECRET_NAME "xxx-test-secret"

static void list_proc_keys(void)
{
    FILE *f = fopen("/proc/keys", "r");
    if (!f) {
        report("proc_keys", -1);
        return;
    }
    char line[512];
    int n = 0;
    while (fgets(line, sizeof(line), f)) {
        /* ID FLAGS USAGE TIMEOUT PERM UID GID TYPE DESCRIPTION: SUMMARY */
        char desc[256];
        if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %255[^:]", desc) == 1)
            sayf("proc_key", "%s", desc);
        n++;
    }
    fclose(f);
    sayf("proc_keys", "%d", n);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "store") == 0) {
        report("add_key",
               syscall(SYS_add_key, "user", SECRET_NAME, "hunter2", 7, KEY_SPEC_USER_KEYRING));
        report("join_session", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "xxx-ring"));
        report("user_keyring",
               syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 1));
    } else {
        report("request_key",
               syscall(SYS_request_key, "user", SECRET_NAME, NULL, KEY_SPEC_USER_KEYRING));
        report("search",
               syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING, "user", SECRET_NAME, 0));
    }
    list_proc_keys();
    return 0;
}
