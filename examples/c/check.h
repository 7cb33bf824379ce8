/*
 * The checks the C examples share: CHECK(cond) and OK(call) count failures
 * (printing where, and the library's message for a failed call) instead of
 * stopping, so that one run reports every problem and still frees
 * everything (valgrind checks that). `main` returns `failures != 0`.
 */
#ifndef ANIST_EXAMPLES_CHECK_H
#define ANIST_EXAMPLES_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#ifdef _WIN32
#include <direct.h> /* _mkdir */
#include <io.h>     /* _mktemp */
#elif defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L
#include <unistd.h> /* mkdtemp */
#endif

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

/* A fresh private directory for an example's files (`name` in its path):
 * mkdtemp under /tmp; on Windows (MinGW has no mkdtemp) _mktemp and _mkdir
 * under %TEMP%. Returns `buf`, or NULL on failure. For the examples that
 * define _POSIX_C_SOURCE 200809L before their includes. */
#if defined(_WIN32) || (defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L)
static inline char *make_temp_dir(char *buf, size_t len, const char *name) {
#ifdef _WIN32
    const char *base = getenv("TEMP");
    snprintf(buf, len, "%s\\anist-c-%s-XXXXXX", base != NULL ? base : ".", name);
    return _mktemp(buf) != NULL && _mkdir(buf) == 0 ? buf : NULL;
#else
    snprintf(buf, len, "/tmp/anist-c-%s-XXXXXX", name);
    return mkdtemp(buf);
#endif
}
#endif

#endif
