/* Media tickets; see ticket.h. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base64.h"
#include "ticket.h"

#define PREFIX     "v1."
#define MAC_LEN    32
#define CLAIMS_MAX 600

static const char *const role_names[] = {"publish", "play"};

static bool sign(const uint8_t secret[ZS_TICKET_SECRET_LEN], const char *data, size_t len,
                 uint8_t mac[MAC_LEN])
{
    unsigned int mac_len = 0;
    return HMAC(EVP_sha256(), secret, ZS_TICKET_SECRET_LEN, (const unsigned char *)data, len, mac,
                &mac_len) != NULL &&
           mac_len == MAC_LEN;
}

int zs_ticket_make(const uint8_t secret[ZS_TICKET_SECRET_LEN], const zs_ticket_claims *c,
                   char out[ZEGO_TICKET_SIZE], zego_error *err)
{
    json_t *obj = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "node", c->node, "role",
                            role_names[c->role == ZEGO_ROLE_PLAY], "app_id", (json_int_t)c->app_id,
                            "stream_id", c->stream_id, "session_id", c->session_id, "exp",
                            (json_int_t)c->exp_ms);
    char *claims = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (!claims)
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "could not encode ticket claims");
    size_t claims_len = strlen(claims);
    size_t enc_len = zego_base64_encoded_len(claims_len, ZEGO_BASE64_URL);
    size_t total = strlen(PREFIX) + enc_len + 1 + zego_base64_encoded_len(MAC_LEN, ZEGO_BASE64_URL);
    if (claims_len > CLAIMS_MAX || total >= ZEGO_TICKET_SIZE) {
        free(claims);
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "ticket claims too long");
    }
    size_t o = strlen(PREFIX);
    memcpy(out, PREFIX, o);
    o += zego_base64_encode((const uint8_t *)claims, claims_len, out + o, ZEGO_BASE64_URL);
    free(claims);
    uint8_t mac[MAC_LEN];
    if (!sign(secret, out, o, mac))
        return zego_error_set(err, ZEGO_ERR_INTERNAL, "HMAC failed");
    out[o++] = '.';
    zego_base64_encode(mac, MAC_LEN, out + o, ZEGO_BASE64_URL);
    return ZEGO_ERR_OK;
}

static int invalid(zego_error *err, const char *why)
{
    return zego_error_set(err, ZEGO_ERR_TICKET_INVALID, "media ticket %s; ask for a new one", why);
}

int zs_ticket_verify(const uint8_t secret[ZS_TICKET_SECRET_LEN], const char *ticket, int64_t now_ms,
                     zs_ticket_claims *c, zego_error *err)
{
    memset(c, 0, sizeof *c);
    if (!ticket || !ticket[0])
        return invalid(err, "is missing");
    size_t len = strnlen(ticket, ZEGO_TICKET_SIZE);
    if (len >= ZEGO_TICKET_SIZE)
        return invalid(err, "is too long");
    if (strncmp(ticket, PREFIX, strlen(PREFIX)) != 0)
        return invalid(err, "has an unknown version");
    const char *dot = strchr(ticket + strlen(PREFIX), '.');
    if (!dot)
        return invalid(err, "is malformed");

    uint8_t mac[MAC_LEN], given[MAC_LEN + 2];
    size_t given_len, bad;
    if (!zego_base64_decode(dot + 1, strlen(dot + 1), given, sizeof given, &given_len, &bad,
                            ZEGO_BASE64_URL) ||
        given_len != MAC_LEN)
        return invalid(err, "has a malformed signature");
    if (!sign(secret, ticket, (size_t)(dot - ticket), mac) ||
        CRYPTO_memcmp(mac, given, MAC_LEN) != 0)
        return invalid(err, "has a wrong signature (altered, or made by another server)");

    uint8_t claims[CLAIMS_MAX + 1];
    size_t claims_len;
    const char *enc = ticket + strlen(PREFIX);
    if (!zego_base64_decode(enc, (size_t)(dot - enc), claims, CLAIMS_MAX, &claims_len, &bad,
                            ZEGO_BASE64_URL))
        return invalid(err, "has malformed claims");
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)claims, claims_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *node = NULL, *role = NULL, *stream_id = NULL, *session_id = NULL;
    json_int_t app_id = 0, exp = 0;
    int ok = obj && json_unpack(obj, "{s:s, s:s, s:I, s:s, s:s, s:I}", "node", &node, "role", &role,
                                "app_id", &app_id, "stream_id", &stream_id, "session_id",
                                &session_id, "exp", &exp) == 0;
    int rc = ZEGO_ERR_OK;
    if (!ok || strlen(node) >= sizeof c->node || strlen(stream_id) >= sizeof c->stream_id ||
        strlen(session_id) >= sizeof c->session_id || app_id < 0 || app_id > UINT32_MAX ||
        (strcmp(role, "publish") != 0 && strcmp(role, "play") != 0)) {
        rc = invalid(err, "has invalid claims");
    } else {
        snprintf(c->node, sizeof c->node, "%s", node);
        snprintf(c->stream_id, sizeof c->stream_id, "%s", stream_id);
        snprintf(c->session_id, sizeof c->session_id, "%s", session_id);
        c->role = strcmp(role, "play") == 0 ? ZEGO_ROLE_PLAY : ZEGO_ROLE_PUBLISH;
        c->app_id = (uint32_t)app_id;
        c->exp_ms = exp;
        if (exp <= now_ms)
            rc = zego_error_set(err, ZEGO_ERR_TICKET_EXPIRED,
                                "media ticket expired %lld ms ago; ask for a new one",
                                (long long)(now_ms - exp));
    }
    json_decref(obj);
    return rc;
}
