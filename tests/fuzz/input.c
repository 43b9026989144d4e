/* input.c - the fuzz input reader shared by the targets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"

void fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t size)
{
    in->p = data;
    in->left = size;
}

uint8_t fuzz_u8(struct fuzz_input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

uint16_t fuzz_u16(struct fuzz_input *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(struct fuzz_input *in)
{
    uint32_t lo = fuzz_u16(in);
    return lo | (uint32_t)fuzz_u16(in) << 16;
}

void fuzz_bytes(struct fuzz_input *in, void *dst, size_t n)
{
    size_t take = n < in->left ? n : in->left;

    if (take > 0)
        memcpy(dst, in->p, take);
    memset((uint8_t *)dst + take, 0, n - take);
    in->p += take;
    in->left -= take;
}

int fuzz_empty(const struct fuzz_input *in)
{
    return in->left == 0;
}

void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

int fuzz_addr_is_clean(const budp_addr *a)
{
    static const uint8_t zero[16];

    if (a->family == BUDP_AF_UNSPEC)
        return a->port == 0 && a->scope_id == 0 && memcmp(a->bytes, zero, 16) == 0;
    if (a->family == BUDP_AF_INET)
        return a->scope_id == 0 && memcmp(a->bytes + 4, zero, 12) == 0;
    return a->family == BUDP_AF_INET6;
}
