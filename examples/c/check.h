/*
 * The checks the C examples share: CHECK(cond) and OK(call) count failures
 * (printing where, and the library's message for a failed call) instead of
 * stopping, so that one run reports every problem and still frees
 * everything (valgrind checks that). `main` returns `failures != 0`.
 */
#ifndef ANIST_EXAMPLES_CHECK_H
#define ANIST_EXAMPLES_CHECK_H

#include <stdio.h>

#include "anist.h"

static int failures = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,         \
                    __LINE__, #cond);                                      \
            failures++;                                                    \
        }                                                                  \
    } while (0)

/* Fails the check with the library's message when a call fails. */
#define OK(call)                                                           \
    do {                                                                   \
        int32_t status_ = (call);                                          \
        if (status_ != ANIST_OK) {                                         \
            char message_[512];                                            \
            anist_last_error_message(message_, sizeof message_);           \
            fprintf(stderr, "%s:%d: %s -> status %d: %s\n", __FILE__,      \
                    __LINE__, #call, status_, message_);                   \
            failures++;                                                    \
        }                                                                  \
    } while (0)

#endif
