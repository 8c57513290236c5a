/* abstract listen|connect NAME — "listen" binds the abstract unix socket
 * NAME, prints listening=1 and waits for stdin to close; then it reports
 * whether anyone connected (accepted=0 or accepted=EAGAIN). "connect"
 * connects to NAME and prints connect=0 or connect=ERRNO. Two boxes must
 * not reach each other this way: abstract names live in the net namespace. */
#include "prog.h"

#include <poll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(argv[2]);
    if (n + 1 > sizeof(sa.sun_path))
        return 2;
    memcpy(sa.sun_path + 1, argv[2], n);
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (strcmp(argv[1], "connect") == 0) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        report("connect", connect(s, (struct sockaddr *)&sa, salen));
        return 0;
    }
    if (report("bind", bind(fd, (struct sockaddr *)&sa, salen)) < 0 ||
        report("listen", listen(fd, 8)) < 0)
        return 1;
    sayf("listening", "1");
    char buf[64];
    while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
        ;
    report("accepted", accept(fd, NULL, NULL));
    return 0;
}
