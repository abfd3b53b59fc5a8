/* deadlock.c - a send on an unbuffered channel waits for a receiver; with
 * none, and no other goroutine to become one, the program can never go on.
 * The runtime notices that every goroutine is blocked and stops the
 * program with Go's report, exit status 2.
 *
 * Go original:
 *   func main() {
 *       ch := make(chan int)
 *       ch <- 42              // blocks forever: nobody receives
 *       fmt.Println(<-ch)
 *   }
 * prints
 *   fatal error: all goroutines are asleep - deadlock!
 *
 *   goroutine 1 [chan send]:
 *   main.main()
 *           /tmp/deadlock.go:5 +0x31
 *   exit status 2
 *
 * An unbuffered send completes only when a receiver takes the value, and
 * here the receiver is the very goroutine that is stuck in the send. Fixes:
 * receive in another goroutine, or give the channel room for the value
 * (go_chan_make(sizeof(int), 1)). The check is global: if any goroutine
 * could still run, sleep out a timer or finish I/O, there is no report (a
 * goroutine blocked forever while others run is a leak, see
 * leaky_server.c). */
#include <goroutine.h>
#include <stdio.h>

int main(void) {
    go_chan *ch = go_chan_make(sizeof(int), 0);
    int v = 42;
    printf("main: sending %d on an unbuffered channel nobody receives from\n", v);
    go_chan_send(ch, &v); /* never returns */

    go_chan_recv(ch, &v);
    printf("main: received %d\n", v);
    return 0;
}
