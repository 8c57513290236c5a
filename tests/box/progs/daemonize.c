/* daemonize — the classic escape: fork, setsid, fork again, ignore SIGTERM,
 * SIGHUP and SIGINT, and keep stdout/stderr open in the grandchild, which
 * sleeps forever. The parent exits 0 at once. Nothing of it may survive the
 * run. */
#include "prog.h"

#include <signal.h>
#include <sys/wait.h>

int main(void)
{
    pid_t child = fork();
    if (child < 0) {
        report("fork", -1);
        return 1;
    }
    if (child == 0) {
        setsid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            signal(SIGTERM, SIG_IGN);
            signal(SIGHUP, SIG_IGN);
            signal(SIGINT, SIG_IGN);
            for (;;)
                pause();
        }
        _exit(grandchild < 0 ? 1 : 0);
    }
    int st = 0;
    waitpid(child, &st, 0);
    sayf("daemon", "%s", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "started" : "failed");
    return 0;
}
