/* LD_PRELOAD shim for the load test only: binds every IPv4 socket a process connects to
 * the loopback source address in KB_SRC_ADDR (e.g. 127.1.0.7) before connect(2), so the
 * cluster double's request log tells each agent's requests apart by peer address.
 * Never linked into kubeboot.   cc -shared -fPIC -O2 -o srcaddr-shim.so srcaddr-shim.c -ldl */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int connect(int fd, const struct sockaddr *addr, socklen_t len) {
        static int (*real)(int, const struct sockaddr *, socklen_t);
        if (!real)
                real = (int (*)(int, const struct sockaddr *, socklen_t)) dlsym(RTLD_NEXT, "connect");
        const char *src = getenv("KB_SRC_ADDR");
        if (src && addr && addr->sa_family == AF_INET) {
                struct sockaddr_in sin = { .sin_family = AF_INET };
                if (inet_pton(AF_INET, src, &sin.sin_addr) == 1) {
                        int saved = errno;
                        (void) bind(fd, (struct sockaddr *) &sin, sizeof sin); /* EINVAL if bound: fine */
                        errno = saved;
                }
        }
        return real(fd, addr, len);
}
