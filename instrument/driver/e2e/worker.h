/* worker.h - see worker.c. */
#ifndef E2E_WORKER_H
#define E2E_WORKER_H
#include <goroutine.h>

/* Starts n goroutines; goroutine i sends i*i on results. */
void start_workers(go_chan *results, int n);

#endif
