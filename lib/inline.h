/* inline.h - inline functions of the per-datagram paths.  The compiler may
 * leave a large static inline function out of line, and on these paths a
 * call per datagram costs more than the work it does: those are marked
 * BUDP_ALWAYS_INLINE where the compiler understands it. */
#ifndef BUDP_INLINE_H
#define BUDP_INLINE_H

#if defined(__GNUC__) || defined(__clang__)
#define BUDP_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#define BUDP_ALWAYS_INLINE static inline
#endif

#endif
