/* hello.c - the first goroutine: `go` starts a function running
 * concurrently with main, and main waits for it on a channel.
 *
 * Go original:
 *   func main() {
 *       done := make(chan bool)
 *       go func() {
 *           fmt.Println("hello from a goroutine")
 *           done <- true
 *       }()
 *       <-done
 *       fmt.Println("main: the goroutine has finished")
 *   }
 *
 * C has no closures, so the goroutine's body is a named function and what
 * it captures travels in its one argument: here the channel itself. The
 * receive in main is what makes the program correct, not the order of the
 * lines: without it main could return first and the process would exit
 * before the goroutine ever ran (see main_exits.c). The send happens before
 * the receive completes, so everything the goroutine did before it
 * (printing) is visible to main afterwards. */
#include <goroutine.h>
#include <stdio.h>

static void say_hello(void *arg) {
    go_chan *done = arg;
    printf("hello from goroutine %llu\n", (unsigned long long)go_id());
    bool finished = true;
    go_chan_send(done, &finished);
}

int main(void) {
    go_chan *done = go_chan_make(sizeof(bool), 0);
    go(say_hello, done); /* go_spawn(say_hello, done) */

    bool finished;
    go_chan_recv(done, &finished);
    printf("main (goroutine %llu): the goroutine has finished\n",
           (unsigned long long)go_id());
    /* The channel is not freed: the sender may still be on its way out of
     * go_chan_send (our receive completes before its send returns), and
     * go_chan_free needs every operation to have returned. The process
     * exit reclaims it. */
    return 0;
}
