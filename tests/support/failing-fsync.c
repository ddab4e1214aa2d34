/*
 * A disk that fails to sync, for tests/e2e/wal-fsync-failure.test.ts. Loaded into a Switchboard child with
 * LD_PRELOAD, it makes fsync and fdatasync of any SQLite WAL file (a path ending in "-wal") fail with EIO
 * while the file named by FAIL_WAL_SYNC_WHILE exists, and otherwise calls the real functions. Node's
 * fs.fdatasyncSync (the inbox writer thread), libuv's fsync (the event loop's writes) and SQLite's own syncs
 * (checkpoints) all reach the disk through these two functions.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int is_failing(int fd) {
  const char *flag = getenv("FAIL_WAL_SYNC_WHILE");
  if (flag == NULL || access(flag, F_OK) != 0) return 0;
  char link[64];
  char target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t length = readlink(link, target, sizeof target - 1);
  if (length < 4) return 0;
  target[length] = '\0';
  return strcmp(target + length - 4, "-wal") == 0;
}

/* The real function `name` of libc, on `fd`, unless the WAL is failing. */
static int sync_unless_failing(const char *name, int fd) {
  if (is_failing(fd)) {
    errno = EIO;
    return -1;
  }
  int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, name);
  return real(fd);
}

int fsync(int fd) { return sync_unless_failing("fsync", fd); }

int fdatasync(int fd) { return sync_unless_failing("fdatasync", fd); }
