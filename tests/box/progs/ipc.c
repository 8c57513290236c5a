/* ipc hold|leave|probe — looks for a channel between two boxes.
 * "leave" creates a SysV shared memory segment (with "secret" in it), a
 * message queue with a message and a semaphore set, prints left=1 and exits
 * without removing them. "hold" creates a SysV shared memory segment and message queue and a POSIX
 * message queue with well-known names, takes an flock and a POSIX read lock
 * on the shared read-only file /usr/bin/env, prints holding=1 and keeps all
 * of it until stdin closes. "probe" looks for each: shm/msg/mq=ERRNO (or 0
 * if found), flock=0 when its non-blocking exclusive flock is granted,
 * posix_lock=unlocked|locked from F_GETLK. */
#include "prog.h"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define SHM_KEY 0x58585801
#define MSG_KEY 0x58585802
#define SEM_KEY 0x58585803
#define MQ_NAME "/xxx-test-mq"
#define LOCK_FILE "/usr/bin/env"

/* A SysV shared memory segment with "secret" in it (kept attached) and a
 * message queue holding "secret", under the well-known keys. */
static void make_shm_and_msg(void)
{
    int shm = shmget(SHM_KEY, 4096, IPC_CREAT | 0666);
    report("shm_create", shm);
    char *p = shm >= 0 ? shmat(shm, NULL, 0) : (void *)-1;
    if (p != (void *)-1)
        strcpy(p, "secret");
    int msg = msgget(MSG_KEY, IPC_CREAT | 0666);
    report("msg_create", msg);
    struct {
        long type;
        char text[8];
    } m = {1, "secret"};
    if (msg >= 0)
        report("msg_send", msgsnd(msg, &m, sizeof(m.text), IPC_NOWAIT));
}

static int hold(void)
{
    make_shm_and_msg();
    mqd_t mq = mq_open(MQ_NAME, O_CREAT | O_RDWR, 0666, NULL);
    report("mq_create", mq);
    if (mq >= 0)
        report("mq_send", mq_send(mq, "secret", 6, 0));

    int fd = open(LOCK_FILE, O_RDONLY);
    report("open_lockfile", fd);
    report("flock", flock(fd, LOCK_EX | LOCK_NB));
    int fd2 = open(LOCK_FILE, O_RDONLY);
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
    report("posix_lock", fcntl(fd2, F_SETLK, &fl));
    sayf("holding", "1");
    char buf[64];
    while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
        ;
    return 0;
}

static int leave(void)
{
    make_shm_and_msg();
    report("sem_create", semget(SEM_KEY, 1, IPC_CREAT | 0666));
    sayf("left", "1");
    return 0;
}

static int probe(void)
{
    report("shm", shmget(SHM_KEY, 0, 0));
    report("msg", msgget(MSG_KEY, 0));
    report("sem", semget(SEM_KEY, 0, 0));
    report("mq", mq_open(MQ_NAME, O_RDONLY));
    int fd = open(LOCK_FILE, O_RDONLY);
    report("flock", flock(fd, LOCK_EX | LOCK_NB));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (report("getlk", fcntl(fd, F_GETLK, &fl)) == 0)
        sayf("posix_lock", "%s", fl.l_type == F_UNLCK ? "unlocked" : "locked");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "hold") == 0)
        return hold();
    if (argc > 1 && strcmp(argv[1], "leave") == 0)
        return leave();
    return probe();
}
