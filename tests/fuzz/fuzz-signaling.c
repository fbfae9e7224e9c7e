/* Fuzz target: the signaling message decoder.  Any input must be decoded or
 * refused without a crash or leak; whatever decodes must encode again, and
 * that encoding must decode to the same message (checked by re-encoding). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zego_msg msg;
    zego_error err;
    if (zego_msg_decode((const char *)data, size, ZEGO_SERVER_MESSAGE_MAX, &msg, &err) !=
        ZEGO_ERR_OK) {
        /* A refusal always says why. */
        if (err.code == 0 || err.message[0] == '\0' || !zego_error_name(err.code))
            abort();
        return 0;
    }
    size_t len;
    char *first = zego_msg_encode(&msg, &len, &err);
    if (!first) {
        fprintf(stderr, "decoded but does not encode: %s\n", err.message);
        abort();
    }
    zego_msg again;
    if (zego_msg_decode(first, len, ZEGO_SERVER_MESSAGE_MAX, &again, &err) != ZEGO_ERR_OK) {
        fprintf(stderr, "own encoding does not decode: %s\n%s\n", err.message, first);
        abort();
    }
    char *second = zego_msg_encode(&again, NULL, &err);
    if (!second || strcmp(first, second) != 0) {
        fprintf(stderr, "round trip differs:\n%s\n%s\n", first, second ? second : "(null)");
        abort();
    }
    free(first);
    free(second);
    zego_msg_clear(&again);
    zego_msg_clear(&msg);
    return 0;
}
