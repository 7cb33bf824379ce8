/*
 * libanist from C: the ANPR rivestizione workflow (notice 002) on a
 * sandbox started by the library (127.0.0.1 only, synthetic people): the
 * Anagrafe sets the module up and registers a STANDARD user, who submits a
 * request file of 5 codici fiscali; a STANDARD user may not approve it
 * (ANIST_ERR_DENIED); the TOP user approves it; the worker runs as a job
 * polled without blocking (as from a GUI timer); the status says done and
 * the response file has a header and one row per subject.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror rivestizione.c $(pkg-config --cflags --libs anist)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "anist.h"

#include "check.h"

#define SUBJECTS 5

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether the last failure's code is `expected`. */
static int last_code_is(const char *expected) {
    char code[64];
    anist_last_error_code(code, sizeof code);
    return strcmp(code, expected) == 0;
}

/* Lines of a text file (0 when it cannot be read). */
static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    int lines = 0, c, last = '\n';
    while ((c = fgetc(f)) != EOF) {
        if (c == '\n') {
            lines++;
        }
        last = c;
    }
    if (last != '\n') {
        lines++;
    }
    fclose(f);
    return lines;
}

/* Runs one pass of the worker as a job, polled until it ends. */
static void run_worker(AnistRivestizione *riv, AnistClient *client,
                       uint64_t expected_subjects) {
    AnistRivestizioneJob *job = NULL;
    CHECK(anist_rivestizione_worker_start(riv, NULL, 0, &job) == ANIST_ERR_NULL_ARGUMENT);
    CHECK(job == NULL);
    OK(anist_rivestizione_worker_start(riv, client, 4, &job));
    AnistRivestizioneJobProgress p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 3000; i++) {
        OK(anist_rivestizione_job_poll(job, &p));
        if (p.state != ANIST_JOB_RUNNING) {
            break;
        }
        sleep_ms(20);
    }
    CHECK(p.state == ANIST_JOB_COMPLETED);
    AnistRivestizioneJobSummary s;
    memset(&s, 0, sizeof s);
    OK(anist_rivestizione_job_result(job, &s));
    CHECK(s.state == ANIST_JOB_COMPLETED);
    CHECK(s.completed == 1);
    CHECK(s.subjects == expected_subjects);
    printf("rivestizione worker: %llu request(s) completed, %llu subjects\n",
           (unsigned long long)s.completed, (unsigned long long)s.subjects);
    anist_rivestizione_job_free(job);
    anist_rivestizione_job_free(NULL); /* NULL is allowed */
}

int main(void) {
    AnistClient *client = NULL;
    OK(anist_client_start_sandbox(42, NULL, &client));
    if (client == NULL) {
        fprintf(stderr, "sandbox: no client, stopping\n");
        return 1;
    }
    char dir[512];
    CHECK(make_temp_dir(dir, sizeof dir, "rivestizione") != NULL);

    AnistRivestizione *riv = NULL;
    CHECK(anist_rivestizione_open(NULL, &riv) == ANIST_ERR_NULL_ARGUMENT);
    OK(anist_rivestizione_open(dir, &riv));
    if (riv == NULL) {
        anist_client_free(client);
        return 1;
    }

    /* The Anagrafe sets it up (manual approval) and registers a clerk. */
    OK(anist_rivestizione_setup(riv, "top", "Anna Anagrafe", "anagrafe", "Anagrafe",
                                "001272", "001272", -1, 0));
    CHECK(anist_rivestizione_setup(riv, "top", "Anna Anagrafe", "anagrafe", "Anagrafe",
                                   "001272", "001272", -1, 0) == ANIST_ERR_CONFIG);
    OK(anist_rivestizione_register_user(riv, "top", "u1", "Ugo Ufficio", "standard",
                                        "anagrafe", "generalita,residenza", "italia"));
    CHECK(anist_rivestizione_register_user(riv, "top", "u2", "X", "boss", "anagrafe",
                                           "generalita", NULL) == ANIST_ERR_INVALID_ARGUMENT);

    /* A request file of 5 synthetic codici fiscali (the sandbox's pupils). */
    char csv[1024] = "codice_fiscale\n";
    for (size_t i = 0; i < SUBJECTS; i++) {
        char *cf = NULL;
        OK(anist_sandbox_pupil(client, i, &cf));
        if (cf != NULL) {
            strncat(csv, cf, sizeof csv - strlen(csv) - 2);
            strcat(csv, "\n");
        }
        anist_string_free(cf);
    }
    int64_t id = 0;
    CHECK(anist_rivestizione_submit(riv, "u1", " ", (const uint8_t *)csv, strlen(csv), NULL,
                                    &id) == ANIST_ERR_INVALID_ARGUMENT);
    CHECK(last_code_is("rivestizione_motivo"));
    CHECK(anist_rivestizione_submit(riv, "u1", "prot. 1", (const uint8_t *)csv, strlen(csv),
                                    "famigliaConvivenza", &id) == ANIST_ERR_DENIED);
    CHECK(last_code_is("rivestizione_profile"));
    CHECK(anist_rivestizione_submit(riv, "u1", "prot. 1", NULL, 10, NULL, &id) ==
          ANIST_ERR_NULL_ARGUMENT);
    OK(anist_rivestizione_submit(riv, "u1", "prot. 12/2026", (const uint8_t *)csv,
                                 strlen(csv), "generalita", &id));
    CHECK(id > 0);

    char *json = NULL;
    OK(anist_rivestizione_status(riv, "u1", id, &json));
    CHECK(json != NULL && strstr(json, "\"state\":\"awaiting_approval\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"subjects\":5") != NULL);
    anist_string_free(json);
    json = NULL;

    /* Only a TOP user approves; nothing to download before it is done. */
    CHECK(anist_rivestizione_approve(riv, "u1", id) == ANIST_ERR_DENIED);
    CHECK(last_code_is("rivestizione_denied"));
    char *path = NULL;
    CHECK(anist_rivestizione_download(riv, "u1", id, &path) == ANIST_ERR_RIVESTIZIONE);
    CHECK(last_code_is("rivestizione_not_ready"));
    CHECK(path == NULL);
    OK(anist_rivestizione_approve(riv, "top", id));
    CHECK(anist_rivestizione_approve(riv, "top", id) == ANIST_ERR_RIVESTIZIONE);
    CHECK(last_code_is("rivestizione_state"));

    run_worker(riv, client, SUBJECTS);

    OK(anist_rivestizione_status(riv, "u1", id, &json));
    CHECK(json != NULL && strstr(json, "\"state\":\"done\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"answered\":5") != NULL);
    CHECK(json != NULL && strstr(json, "\"decided_by\":\"top\"") != NULL);
    anist_string_free(json);
    json = NULL;
    OK(anist_rivestizione_requests(riv, "top", &json));
    CHECK(json != NULL && json[0] == '[' && strstr(json, "\"state\":\"done\"") != NULL);
    anist_string_free(json);

    /* The requester downloads the response file: a header, one row each. */
    CHECK(anist_rivestizione_download(riv, "top", id, &path) == ANIST_ERR_DENIED);
    OK(anist_rivestizione_download(riv, "u1", id, &path));
    CHECK(path != NULL && count_lines(path) == 1 + SUBJECTS);
    printf("rivestizione: request %lld done, file of %d lines\n", (long long)id,
           path != NULL ? count_lines(path) : 0);
    anist_string_free(path);

    anist_rivestizione_free(riv);
    anist_rivestizione_free(NULL); /* NULL is allowed */
    anist_client_free(client);
    printf("rivestizione: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures != 0;
}
