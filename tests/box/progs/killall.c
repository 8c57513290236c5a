/* killall — kill(-1, SIGKILL) with a child of its own to hit, then scans
 * pids 1..65535 with kill(pid, 0), then tries ptrace on pid 1. Prints
 * kill_all, child_killed_by, self=PID, visible=PID,PID,... and ptrace_*. */
#include "prog.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

int main(void)
{
    pid_t child = fork();
    if (child == 0) {
        for (;;)
            pause();
    }
    signal(SIGCHLD, SIG_DFL);
    report("kill_all", kill(-1, SIGKILL));
    int st = 0;
    if (child > 0 && waitpid(child, &st, 0) == child && WIFSIGNALED(st))
        sayf("child_killed_by", "%d", WTERMSIG(st));
    else
        sayf("child_killed_by", "none");

    char list[4000] = "";
    size_t len = 0;
    for (pid_t pid = 1; pid < 65536; pid++) {
        if (kill(pid, 0) == 0 || errno == EPERM)
            len +=
                (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", len ? "," : "", (int)pid);
        if (len >= sizeof(list) - 16)
            break;
    }
    sayf("self", "%d", (int)getpid());
    sayf("visible", "%s", list);
    report("ptrace_attach_1", ptrace(PTRACE_ATTACH, 1, 0, 0));
    report("ptrace_traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
    return 0;
}
