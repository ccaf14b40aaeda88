/* The pod sandbox's process: waits for SIGINT or SIGTERM and exits; reaps the orphans of a pod
 * that shares its process namespace (the pod's PID 1). Built static by images.sh. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static void leave(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction stop = {0}, child = {0};
    stop.sa_handler = leave;
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGTERM, &stop, NULL);
    child.sa_handler = reap;
    child.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &child, NULL);
    for (;;) {
        pause();
    }
}
