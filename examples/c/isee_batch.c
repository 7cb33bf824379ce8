/*
 * libanist from C: the ISEE batch (the job of `anist isee batch`) through a
 * sandbox started by the library (127.0.0.1 only, synthetic people), driven
 * as a GUI would: start, poll, cancel, resume, result, free. The audit trail
 * is on by default (anist-audit.sqlite beside the output); a second run opts
 * out explicitly with spec.no_audit.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror isee_batch.c $(pkg-config --cflags --libs anist)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anist.h"

#include "check.h"

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until the batch leaves ANIST_JOB_RUNNING; returns the final state. */
static int32_t wait_for(const AnistIseeJob *job) {
    AnistIseeJobProgress p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 30000; i++) { /* at most 10 minutes */
        if (anist_isee_job_poll(job, &p) != ANIST_OK) {
            return -1;
        }
        if (p.state != ANIST_JOB_RUNNING) {
            break;
        }
        sleep_ms(20);
    }
    printf("isee batch: state %d, %llu/%llu rows, %llu found\n", p.state,
           (unsigned long long)p.rows_done, (unsigned long long)p.rows_total,
           (unsigned long long)p.found);
    return p.state;
}

int main(void) {
    AnistClient *client = NULL;
    OK(anist_client_start_sandbox(42, NULL, &client));
    if (client == NULL) {
        fprintf(stderr, "sandbox: no client, stopping\n");
        return 1;
    }

    /* A CSV of applications: residents with an ISEE, one without, one
     * repeated, one invalid code. */
    char dir[200];
    CHECK(make_temp_dir(dir, sizeof dir, "isee") != NULL);
    char input[256], output[256], audit[256], quiet[256], quiet_audit[256];
    snprintf(input, sizeof input, "%s/domande.csv", dir);
    snprintf(output, sizeof output, "%s/esiti.csv", dir);
    snprintf(audit, sizeof audit, "%s/anist-audit.sqlite", dir);
    snprintf(quiet, sizeof quiet, "%s/esiti-senza-audit.csv", dir);
    snprintf(quiet_audit, sizeof quiet_audit, "%s/other.sqlite", dir);
    enum { PEOPLE = 12, ROWS = PEOPLE + 3 };
    FILE *csv = fopen(input, "w");
    CHECK(csv != NULL);
    if (csv != NULL) {
        fprintf(csv, "Codice fiscale;Prestazione\n");
        char *first = NULL;
        for (size_t i = 0; i < PEOPLE; i++) {
            char *cf = NULL;
            OK(anist_sandbox_isee_person(client, 1, i, &cf));
            fprintf(csv, "%s;A1.07\n", cf ? cf : "");
            if (i == 0) {
                first = cf;
            } else {
                anist_string_free(cf);
            }
        }
        char *nobody = NULL;
        OK(anist_sandbox_isee_person(client, 0, 0, &nobody));
        fprintf(csv, "%s;\n", nobody ? nobody : "");
        anist_string_free(nobody);
        fprintf(csv, "%s;A1.07\n", first ? first : ""); /* asked once */
        anist_string_free(first);
        fprintf(csv, "RSSMRA80A01H501X;\n");
        fclose(csv);
    }

    AnistIseeBatchSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.input = input;
    spec.output = output;
    spec.service = ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI;

    /* A bad service is refused at once. */
    AnistIseeJob *job = NULL;
    spec.service = 42;
    CHECK(anist_isee_job_start(client, &spec, &job) ==
          ANIST_ERR_INVALID_ARGUMENT);
    CHECK(job == NULL);
    spec.service = ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI;
    CHECK(anist_isee_job_start(client, NULL, &job) == ANIST_ERR_NULL_ARGUMENT);

    /* Start, then cancel at once: the journal keeps what was answered. */
    OK(anist_isee_job_start(client, &spec, &job));
    AnistIseeJobSummary summary;
    memset(&summary, 0, sizeof summary);
    int32_t early = anist_isee_job_result(job, &summary);
    CHECK(early == ANIST_ERR_JOB_NOT_READY || early == ANIST_OK);
    OK(anist_isee_job_cancel(job));
    int32_t state = wait_for(job);
    CHECK(state == ANIST_JOB_CANCELLED || state == ANIST_JOB_COMPLETED);
    if (state == ANIST_JOB_CANCELLED) {
        CHECK(anist_isee_job_result(job, &summary) == ANIST_ERR_CANCELLED);
    }
    anist_isee_job_free(job);

    /* Start again on the same journal: it resumes and completes. */
    job = NULL;
    OK(anist_isee_job_start(client, &spec, &job));
    CHECK(wait_for(job) == ANIST_JOB_COMPLETED);
    memset(&summary, 0, sizeof summary);
    OK(anist_isee_job_result(job, &summary));
    printf("summary: %llu rows, %llu questions, %llu found, %llu no ISEE, "
           "%llu refused, %llu invalid, %llu errors, %llu calls\n",
           (unsigned long long)summary.rows_total,
           (unsigned long long)summary.distinct_questions,
           (unsigned long long)summary.found,
           (unsigned long long)summary.no_isee,
           (unsigned long long)summary.refused,
           (unsigned long long)summary.invalid_input,
           (unsigned long long)summary.error,
           (unsigned long long)summary.calls);
    CHECK(summary.state == ANIST_JOB_COMPLETED);
    CHECK(summary.rows_total == ROWS && summary.rows_done == ROWS);
    CHECK(summary.distinct_questions == PEOPLE + 1);
    CHECK(summary.found == PEOPLE + 1);
    CHECK(summary.no_isee == 1);
    CHECK(summary.invalid_input == 1);
    CHECK(summary.error == 0 && summary.refused == 0);
    CHECK(access(output, R_OK) == 0);
    /* The audit trail is on by default, beside the output. */
    CHECK(access(audit, R_OK) == 0);
    anist_isee_job_free(job);

    /* Opting out of the audit trail is explicit. */
    spec.output = quiet;
    spec.audit = quiet_audit;
    spec.no_audit = 1;
    job = NULL;
    OK(anist_isee_job_start(client, &spec, &job));
    CHECK(wait_for(job) == ANIST_JOB_COMPLETED);
    OK(anist_isee_job_result(job, &summary));
    CHECK(summary.rows_done == ROWS);
    CHECK(access(quiet_audit, F_OK) != 0);
    anist_isee_job_free(job);

    /* A batch whose input does not exist fails; the result says why. */
    char missing[256];
    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    spec.input = missing;
    spec.output = output;
    spec.no_audit = 0;
    spec.audit = NULL;
    char journal[256];
    snprintf(journal, sizeof journal, "%s/missing.journal", dir);
    spec.journal = journal;
    job = NULL;
    OK(anist_isee_job_start(client, &spec, &job));
    CHECK(wait_for(job) == ANIST_JOB_FAILED);
    CHECK(anist_isee_job_result(job, &summary) != ANIST_OK);
    char why[64];
    anist_last_error_code(why, sizeof why);
    printf("missing input: %s\n", why);
    anist_isee_job_free(job);
    anist_isee_job_free(NULL); /* NULL is allowed */

    anist_client_free(client);
    printf("isee_batch: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures != 0;
}
