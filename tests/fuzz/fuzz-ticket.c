/* Fuzz target: the media ticket parser of zego-room-server.  Any input is
 * checked without a crash; the same bytes used as a stream id and session id
 * in a freshly made ticket must verify back to the same claims. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ticket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[ZS_TICKET_SECRET_LEN] = "fuzzing-secret-fuzzing-secret-12";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[ZEGO_TICKET_SIZE + 8];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    zs_ticket_claims claims;
    zego_error err;
    if (zs_ticket_verify(secret, text, 0, &claims, &err) == ZEGO_ERR_OK && claims.exp_ms <= 0)
        abort();

    /* Round trip: any printable id fits in a ticket and comes back. */
    zs_ticket_claims made = {.role = size & 1 ? ZEGO_ROLE_PLAY : ZEGO_ROLE_PUBLISH,
                             .app_id = (uint32_t)size,
                             .exp_ms = 4102444800000};
    memcpy(made.node, "node-1", 7);
    size_t id_len = n < 100 ? n : 100;
    for (size_t i = 0; i < id_len; i++)
        made.stream_id[i] = (char)(0x21 + (data[i] % 94));
    memcpy(made.session_id, made.stream_id, id_len < 60 ? id_len : 60);
    char ticket[ZEGO_TICKET_SIZE];
    if (zs_ticket_make(secret, &made, ticket, &err) != ZEGO_ERR_OK)
        abort();
    if (zs_ticket_verify(secret, ticket, 0, &claims, &err) != ZEGO_ERR_OK ||
        strcmp(claims.stream_id, made.stream_id) != 0 ||
        strcmp(claims.session_id, made.session_id) != 0 || claims.role != made.role ||
        claims.app_id != made.app_id)
        abort();
    /* One flipped character anywhere breaks it. */
    size_t at = size % strlen(ticket);
    ticket[at] = ticket[at] == 'A' ? 'B' : 'A';
    if (zs_ticket_verify(secret, ticket, 0, &claims, &err) == ZEGO_ERR_OK)
        abort();
    return 0;
}
