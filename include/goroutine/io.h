/* goroutine/io.h - goroutine-aware I/O and blocking-syscall hand-off: the
 * goroutine parks, its thread runs other goroutines. */
#ifndef GOROUTINE_IO_H
#define GOROUTINE_IO_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

ssize_t go_read(int fd, void *buf, size_t n);
ssize_t go_write(int fd, const void *buf, size_t n);
int go_accept(int fd, struct sockaddr *sa, socklen_t *len);
int go_connect(int fd, const struct sockaddr *sa, socklen_t len);
int go_close(int fd);
void go_syscall_enter(void);
void go_syscall_exit(void);

#ifdef __cplusplus
}
#endif
#endif
