/* net PORT HOSTIP ABSTRACT — tries to reach out of the box: sockets of the
 * vsock, packet and netlink families; TCP to 127.0.0.1:PORT and HOSTIP:PORT,
 * where the test listens on the host; the host's abstract unix socket
 * ABSTRACT. Lists the interfaces it can see (ifaces=lo,...). */
#include "prog.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/netlink.h>
#include <linux/vm_sockets.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

static void try_tcp(const char *key, const char *ip, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        report(key, -1);
        return;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &sa.sin_addr);
    report(key, connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
    close(fd);
}

static void list_ifaces(void)
{
    FILE *f = fopen("/proc/net/dev", "r");
    if (!f) {
        report("ifaces", -1);
        return;
    }
    char line[512], list[512] = "";
    size_t len = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[64];
        if (strchr(line, '|') || sscanf(line, " %63[^:]:", name) != 1)
            continue;
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? "," : "", name);
    }
    fclose(f);
    sayf("ifaces", "%s", list);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    int port = atoi(argv[1]);
    report("socket_vsock", socket(AF_VSOCK, SOCK_STREAM, 0));
    report("socket_packet", socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
    report("socket_netlink", socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE));
    try_tcp("tcp_loopback", "127.0.0.1", port);
    try_tcp("tcp_host", argv[2], port);

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(argv[3]);
    memcpy(sa.sun_path + 1, argv[3], n);
    report("unix_abstract", connect(fd, (struct sockaddr *)&sa,
                                    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)));
    list_ifaces();
    return 0;
}
