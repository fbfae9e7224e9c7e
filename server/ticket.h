/* Media tickets: short-lived, HMAC-signed permissions to open one media
 * socket, handed out by signaling and checked when the socket opens.
 *
 *   "v1." base64url(claims JSON) "." base64url(HMAC-SHA256(secret, "v1." claims64))
 *
 * The claims name the node meant to accept the socket, so that in a cluster
 * (where nodes share the secret) a ticket is only good where it was meant. */
#ifndef ZS_TICKET_H
#define ZS_TICKET_H

#include <stdint.h>

#include "protocol.h"

#define ZS_TICKET_SECRET_LEN 32
#define ZS_NODE_ID_SIZE      64

typedef struct zs_ticket_claims {
    char node[ZS_NODE_ID_SIZE];
    zego_media_role role;
    uint32_t app_id;
    char stream_id[ZEGO_STREAM_ID_SIZE];
    char session_id[ZEGO_SESSION_ID_SIZE];
    int64_t exp_ms;
} zs_ticket_claims;

/* Writes a ticket for the claims into out (ZEGO_TICKET_SIZE bytes). */
int zs_ticket_make(const uint8_t secret[ZS_TICKET_SECRET_LEN], const zs_ticket_claims *claims,
                   char out[ZEGO_TICKET_SIZE], zego_error *err);

/* Checks the signature, the form and the expiry (as of now_ms).  Returns
 * ZEGO_ERR_OK, ZEGO_ERR_TICKET_INVALID or ZEGO_ERR_TICKET_EXPIRED. */
int zs_ticket_verify(const uint8_t secret[ZS_TICKET_SECRET_LEN], const char *ticket, int64_t now_ms,
                     zs_ticket_claims *claims, zego_error *err);

#endif
