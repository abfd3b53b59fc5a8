/* goroutine/chan.h - channels and select. NULL is the nil channel. */
#ifndef GOROUTINE_CHAN_H
#define GOROUTINE_CHAN_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct go_chan go_chan;

go_chan *go_chan_make(size_t elem_size, size_t cap);
void go_chan_send(go_chan *c, const void *elem);
bool go_chan_recv(go_chan *c, void *elem);
void go_chan_close(go_chan *c);
size_t go_chan_len(go_chan *c);
size_t go_chan_cap(go_chan *c);
void go_chan_free(go_chan *c);

enum go_dir { GO_SEND = 1, GO_RECV = 2 };

typedef struct {
    go_chan *chan;
    enum go_dir dir;
    void *elem;
    bool ok;
} go_case;

int go_select(go_case *cases, size_t n);
int go_select_nb(go_case *cases, size_t n);

#ifdef __cplusplus
}
#endif
#endif
