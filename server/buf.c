/* Refcounted message buffers and the bounded queues that hold them. */
#include <stdlib.h>
#include <string.h>

#include "server.h"

zs_buf *zs_buf_new(size_t len)
{
    zs_buf *b = malloc(sizeof *b + LWS_PRE + len);
    if (!b)
        return NULL;
    memset(b, 0, sizeof *b);
    b->refs = 1;
    b->len = (uint32_t)len;
    return b;
}

zs_buf *zs_buf_ref(zs_buf *b)
{
    b->refs++;
    return b;
}

void zs_buf_unref(zs_buf *b)
{
    if (b && --b->refs == 0)
        free(b);
}

bool zs_queue_push(zs_queue *q, zs_buf *b, uint32_t max_items)
{
    if (q->count == q->cap) {
        if (q->cap >= max_items)
            return false;
        uint32_t cap = q->cap ? q->cap * 2 : 16;
        if (cap > max_items)
            cap = max_items;
        zs_buf **items = malloc(cap * sizeof *items);
        if (!items)
            return false;
        for (uint32_t i = 0; i < q->count; i++)
            items[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = items;
        q->cap = cap;
        q->head = 0;
    }
    q->items[(q->head + q->count) % q->cap] = zs_buf_ref(b);
    q->count++;
    q->bytes += b->len;
    return true;
}

zs_buf *zs_queue_peek(const zs_queue *q, uint32_t i)
{
    return i < q->count ? q->items[(q->head + i) % q->cap] : NULL;
}

/* Returns the oldest buffer with its reference; the caller unrefs it. */
zs_buf *zs_queue_pop(zs_queue *q)
{
    if (!q->count)
        return NULL;
    zs_buf *b = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    q->bytes -= b->len;
    return b;
}

void zs_queue_clear(zs_queue *q)
{
    zs_buf *b;
    while ((b = zs_queue_pop(q)))
        zs_buf_unref(b);
    free(q->items);
    memset(q, 0, sizeof *q);
}
