/* box_cmd.h — `xxxd box run|check`: one command in one box, and the host check. */
#ifndef XXX_BOX_CMD_H
#define XXX_BOX_CMD_H

/* Runs `xxxd box ...` (argv[0] is "box"); returns the process exit status. */
int box_cmd_main(int argc, char **argv);

#endif
