/* main_exits.c - when main returns, the program ends: goroutines that are
 * still running (or have not started yet) are killed mid-way, and nothing
 * waits for them.
 *
 * Go original:
 *   func main() {
 *       go func() {
 *           time.Sleep(time.Second)
 *           fmt.Println("goroutine: you will never see this line")
 *       }()
 *       fmt.Println("main: started a goroutine, returning now")
 *   }
 *
 * main is goroutine 1, and returning from it calls exit(), exactly as
 * Go's runtime calls exit(0) when main.main returns. The goroutine below
 * needs a second before it prints, main needs microseconds to return, so
 * its line never appears. Even without the sleep it would usually be lost:
 * go() only makes the goroutine runnable, it does not run it. The fix is to
 * wait for it: a channel (hello.c) or a WaitGroup (loop_capture.c). */
#include <goroutine.h>
#include <stdio.h>

static void late_printer(void *arg) {
    (void)arg;
    go_sleep(GO_SECOND);
    printf("goroutine: you will never see this line\n");
}

int main(void) {
    go(late_printer, NULL);
    printf("main: started a goroutine, returning now\n");
    return 0;
}
