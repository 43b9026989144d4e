/* input.h - reading a fuzz input as a stream of small values.  Every read
 * succeeds: past the end of the input it gives zeros, so a short input is
 * simply a sequence whose tail is all defaults. */
#ifndef FUZZ_INPUT_H
#define FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "batchudp.h"

struct fuzz_input {
    const uint8_t *p;
    size_t left;
};

void     fuzz_input_init(struct fuzz_input *in, const uint8_t *data, size_t size);
uint8_t  fuzz_u8(struct fuzz_input *in);
uint16_t fuzz_u16(struct fuzz_input *in);
uint32_t fuzz_u32(struct fuzz_input *in);
/* Copy n bytes into dst, zero-filled past the end of the input. */
void     fuzz_bytes(struct fuzz_input *in, void *dst, size_t n);
int      fuzz_empty(const struct fuzz_input *in);

/* 1 when a holds no stray bytes: an unspecified address all zero, an IPv4
 * one with nothing past its 4 bytes and no scope. */
int fuzz_addr_is_clean(const budp_addr *a);

/* Stop the process so that the fuzzer (or the replay) reports the input:
 * an invariant of the library did not hold. */
#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))
void fuzz_fail(const char *what, const char *file, int line);

#endif
