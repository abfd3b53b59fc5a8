/* hello.c - one file, one goroutine, one channel: the smallest program
 * goroutine-cc must build. Prints "got 42". */
#include <goroutine.h>
#include <stdio.h>

static void answer(void *arg) {
    int v = 42;
    go_chan_send(arg, &v);
}

int main(void) {
    go_chan *c = go_chan_make(sizeof(int), 0);
    go(answer, c);
    int v = 0;
    go_chan_recv(c, &v);
    printf("got %d\n", v);
    go_chan_free(c);
    return 0;
}
