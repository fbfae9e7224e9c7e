/* Fuzz target: the media frame parser.  Any input must parse or be refused
 * without reading outside it; a frame that parses has its payload inside the
 * input and a header that writes back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zego_frame_header h;
    const uint8_t *payload;
    zego_error err;
    if (zego_frame_parse(data, size, 1 << 20, &h, &payload, &err) != ZEGO_ERR_OK) {
        if (!zego_error_name(err.code) || err.message[0] == '\0')
            abort();
        return 0;
    }
    if (payload < data || payload + h.payload_size != data + size || h.payload_size == 0)
        abort();
    uint8_t again[ZEGO_FRAME_HEADER_SIZE];
    zego_frame_header_write(&h, again);
    /* Everything but the header size byte (which may announce extensions). */
    if (again[0] != data[0] || memcmp(again + 2, data + 2, ZEGO_FRAME_HEADER_SIZE - 2) != 0)
        abort();
    return 0;
}
