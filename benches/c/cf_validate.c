/*
 * C benchmark: anist_cf_validate over 1,000,000 synthetic codes (the
 * corpus of the Rust benchmarks: 80% valid, 5% valid omocodic, 15%
 * invalid), one thread, through the shared library.
 *
 *   scripts/test_c.sh builds and runs it (release library); or by hand:
 *   cc -O2 -Wall -Wextra -Werror cf_validate.c $(pkg-config --cflags --libs anist)
 *   ./a.out [rounds] [min M codes/s]
 *
 * Prints the best of `rounds` (default 5) passes; exits 1 when a minimum
 * is given and the best pass is below it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "anist.h"

enum { CODES = 1000000 };

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    double min_rate = argc > 2 ? atof(argv[2]) : 0.0;
    if (rounds < 1) {
        rounds = 1;
    }
    size_t len = (size_t)CODES * ANIST_SYNTHETIC_STRIDE;
    char *corpus = malloc(len);
    if (corpus == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if (anist_synthetic_codes(2026, CODES, corpus, len) != ANIST_OK) {
        fprintf(stderr, "anist_synthetic_codes failed\n");
        free(corpus);
        return 1;
    }
    double best = 0.0;
    long valid = 0;
    for (int r = 0; r < rounds; r++) {
        long ok = 0;
        double start = now_seconds();
        for (size_t i = 0; i < CODES; i++) {
            ok += anist_cf_validate(corpus + i * ANIST_SYNTHETIC_STRIDE) == ANIST_OK;
        }
        double elapsed = now_seconds() - start;
        double rate = (double)CODES / elapsed / 1e6;
        if (rate > best) {
            best = rate;
        }
        valid = ok;
    }
    free(corpus);
    printf("anist_cf_validate: %.1f M codes/s (best of %d passes over %d codes, %ld valid)\n",
           best, rounds, CODES, valid);
    if (min_rate > 0.0 && best < min_rate) {
        fprintf(stderr, "below the target of %.1f M codes/s\n", min_rate);
        return 1;
    }
    return 0;
}
