/* persist write|check HOME — "write" leaves a file in every writable
 * place a run can reach (/tmp, /dev/shm, /var/tmp, HOME, HOME/.cache, the
 * workdir) and prints NAME=0|ERRNO, then leaves what a walk that empties a
 * workspace could trip on in /tmp: nesting eight deep, a directory with
 * mode 000 holding a file, a symlink to a host file, a fifo, a hard link;
 * it sets a user xattr on the workdir and makes it mode 0700, and makes a
 * TCP connection on loopback that it closes first (the side that would
 * wait in TIME_WAIT). "check" looks for each and prints
 * NAME=0 when found, NAME=ENOENT when gone, the entries left in /tmp,
 * /dev/shm and HOME, the workdir's mode and its xattr, and the TCP sockets
 * of the network namespace (/proc/net/tcp and tcp6). */
#include "prog.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define NAME "xxx-persist"

static const char *const extras[] = {"/tmp/" NAME "-deep", "/tmp/" NAME "-locked",
                                     "/tmp/" NAME "-link", "/tmp/" NAME "-fifo",
                                     "/tmp/" NAME "-hard"};

/* Entries in dir other than . and .. (and skip, if given); -1 if unreadable. */
static int entries(const char *dir, const char *skip)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n +=
            strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && (!skip || strcmp(e->d_name, skip));
    closedir(d);
    return n;
}

/* Lines of a /proc/net table past its header: 0 for a table the kernel
 * does not have (tcp6 without IPv6), -1 if unreadable. */
static int table_rows(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    int n = -1;
    char line[512];
    while (fgets(line, sizeof line, f))
        n++;
    fclose(f);
    return n;
}

/* A loopback connection that this side closes first, then the other. */
static int tcp_closed_pair(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &len) < 0 ||
        connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
        return -1;
    int a = accept(l, NULL, NULL);
    if (a < 0)
        return -1;
    close(c);
    char b;
    if (read(a, &b, 1) != 0) /* the FIN has come */
        return -1;
    close(a);
    close(l);
    usleep(100000);
    return 0;
}

static void nest(const char *top, int depth)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", top);
    mkdir(path, 0755);
    for (int i = 0; i < depth; i++) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "/d%d", i);
        mkdir(path, 0755);
    }
    size_t n = strlen(path);
    snprintf(path + n, sizeof path - n, "/f");
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    report("nested", fd < 0 ? -1 : write(fd, "run1\n", 5));
    close(fd);
}

static void leave_extras(void)
{
    nest(extras[0], 8);
    mkdir(extras[1], 0755);
    int fd = open("/tmp/" NAME "-locked/f", O_CREAT | O_WRONLY, 0644);
    close(fd);
    report("locked", chmod(extras[1], 0));
    report("link", symlink("/etc/passwd", extras[2]));
    report("fifo", mkfifo(extras[3], 0644));
    report("hard", link("/tmp/" NAME, extras[4]));
    sayf("xattr_set", "%s", setxattr(".", "user.xxx", "run1", 4, 0) == 0 ? "0" : errname(errno));
    report("workdir_chmod", chmod(".", 0700));
    report("tcp_pair", tcp_closed_pair());
    sayf("tcp_sockets_after", "%d", table_rows("/proc/net/tcp") + table_rows("/proc/net/tcp6"));
}

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
    if (writing)
        leave_extras();
    else {
        static const char *const names[] = {"deep", "locked", "link", "fifo", "hard"};
        for (int i = 0; i < 5; i++) {
            struct stat st;
            report(names[i], lstat(extras[i], &st));
        }
        sayf("tmp_entries", "%d", entries("/tmp", NULL));
        sayf("shm_entries", "%d", entries("/dev/shm", NULL));
        sayf("home_entries", "%d", entries(home, NULL));
        struct stat st;
        if (stat(".", &st) == 0)
            sayf("workdir_mode", "%o", (unsigned)(st.st_mode & 07777));
        char v[16];
        sayf("xattr", "%s", getxattr(".", "user.xxx", v, sizeof v) >= 0 ? "run1" : errname(errno));
        sayf("tcp_sockets", "%d", table_rows("/proc/net/tcp") + table_rows("/proc/net/tcp6"));
    }
    return 0;
}
