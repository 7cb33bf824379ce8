/*
 * libanist from C: ANPR lookups (E002 over PDND) through a sandbox started
 * by the library (127.0.0.1 only, synthetic people): by codice fiscale
 * (C030 first, with ANPR's EN148 warning), then by the ID ANPR it gave,
 * the family, and the arguments refused before any call (the answer is a
 * JSON string with ANPR's own field names); then the massive job over a
 * CSV, polled until it ends.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror anpr.c $(pkg-config --cflags --libs anist)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "anist.h"

#include "check.h"

/* Copies the 9 characters of the first ID ANPR of an answer into `out`. */
static int first_id_anpr(const char *json, char out[10]) {
    const char *at = strstr(json, "\"id_anpr\":[\"");
    if (at == NULL) {
        return 0;
    }
    at += strlen("\"id_anpr\":[\"");
    if (strlen(at) < 9) {
        return 0;
    }
    memcpy(out, at, 9);
    out[9] = '\0';
    return 1;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The massive job over `rows` pupils and one invalid code. */
static void massive(AnistClient *client, const char *dir, const char *audit,
                    const char *ids, size_t rows) {
    char input[600], output[600];
    snprintf(input, sizeof input, "%s/elenco.csv", dir);
    snprintf(output, sizeof output, "%s/esiti.csv", dir);
    FILE *csv = fopen(input, "w");
    CHECK(csv != NULL);
    if (csv == NULL) {
        return;
    }
    fprintf(csv, "Codice fiscale\n");
    for (size_t i = 0; i < rows; i++) {
        char *cf = NULL;
        OK(anist_sandbox_pupil(client, 100 + i, &cf));
        fprintf(csv, "%s\n", cf ? cf : "");
        anist_string_free(cf);
    }
    fprintf(csv, "RSSMRA80A01H501X\n");
    fclose(csv);

    AnistAnprJobSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.input = input;
    spec.output = output;
    spec.motivo = "prot. 9";
    spec.audit = audit;
    spec.ids = ids;
    AnistAnprJob *job = NULL;
    spec.servizio = 42; /* refused at once */
    CHECK(anist_anpr_job_start(client, &spec, &job) == ANIST_ERR_INVALID_ARGUMENT);
    CHECK(job == NULL);
    spec.servizio = ANIST_ANPR_ID_ANPR;
    OK(anist_anpr_job_start(client, &spec, &job));
    AnistAnprJobProgress p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 3000; i++) {
        OK(anist_anpr_job_poll(job, &p));
        if (p.state != ANIST_JOB_RUNNING) {
            break;
        }
        sleep_ms(20);
    }
    AnistAnprJobSummary s;
    memset(&s, 0, sizeof s);
    OK(anist_anpr_job_result(job, &s));
    CHECK(s.state == ANIST_JOB_COMPLETED);
    CHECK(s.rows_total == rows + 1);
    CHECK(s.found + s.not_found + s.invalid_code + s.error == rows + 1);
    CHECK(s.invalid_code == 1);
    CHECK(s.submits == 1);
    printf("anpr massive: %llu rows, %llu found, %llu not found, %llu asked singly\n",
           (unsigned long long)s.rows_total, (unsigned long long)s.found,
           (unsigned long long)s.not_found, (unsigned long long)s.singles);
    anist_anpr_job_free(job);
    anist_anpr_job_free(NULL); /* NULL is allowed */
}

int main(void) {
    AnistClient *client = NULL;
    OK(anist_client_start_sandbox(42, NULL, &client));
    if (client == NULL) {
        fprintf(stderr, "sandbox: no client, stopping\n");
        return 1;
    }
    char dir[512], audit[600], ids[600];
    CHECK(make_temp_dir(dir, sizeof dir, "anpr") != NULL);
    snprintf(audit, sizeof audit, "%s/anist-audit.sqlite", dir);
    snprintf(ids, sizeof ids, "%s/anist-anpr-ids.sqlite", dir);

    /* By codice fiscale, until somebody is found (not found is an answer). */
    char id[10] = "";
    int found = 0, not_found = 0;
    for (size_t i = 0; i < 40 && id[0] == '\0'; i++) {
        char *cf = NULL;
        OK(anist_sandbox_pupil(client, i, &cf));
        char *json = NULL;
        int32_t status = anist_anpr_cerca(client, cf, NULL, ANIST_ANPR_GENERALITA,
                                          "prot. 123", NULL, audit, ids, &json);
        if (status == ANIST_OK && json != NULL) {
            CHECK(strstr(json, "\"EN148\"") != NULL); /* CF search warning */
            if (strstr(json, "\"esito\":\"trovato\"") != NULL) {
                found++;
                CHECK(strstr(json, cf) != NULL);
                CHECK(first_id_anpr(json, id));
            } else {
                not_found++;
            }
        } else {
            /* Several subjects (EN131): search by ID ANPR. */
            CHECK(status == ANIST_ERR_ANPR_AMBIGUOUS);
        }
        anist_string_free(json);
        anist_string_free(cf);
    }
    CHECK(found == 1);
    printf("anpr: found after %d not found\n", not_found);

    /* By the ID ANPR: the service directly, no EN148. */
    char *json = NULL;
    OK(anist_anpr_cerca(client, NULL, id, ANIST_ANPR_GENERALITA, "prot. 123",
                        "2026-06-15", audit, ids, &json));
    CHECK(json != NULL && strstr(json, "\"esito\":\"trovato\"") != NULL);
    CHECK(json != NULL && strstr(json, "\"EN148\"") == NULL);
    anist_string_free(json);
    json = NULL;
    OK(anist_anpr_cerca(client, NULL, id, ANIST_ANPR_FAMIGLIA, "prot. 123",
                        NULL, audit, ids, &json));
    CHECK(json != NULL && strstr(json, "\"servizio\":\"famiglia\"") != NULL);
    anist_string_free(json);

    /* Refused before any call, each with its stable code. */
    char code[64];
    json = NULL;
    CHECK(anist_anpr_cerca(client, NULL, NULL, ANIST_ANPR_GENERALITA, "x",
                           NULL, audit, ids, &json) == ANIST_ERR_INVALID_ARGUMENT);
    CHECK(anist_anpr_cerca(client, NULL, id, 42, "x", NULL, audit, ids,
                           &json) == ANIST_ERR_INVALID_ARGUMENT);
    CHECK(anist_anpr_cerca(client, NULL, id, ANIST_ANPR_GENERALITA, "  ", NULL,
                           audit, ids, &json) == ANIST_ERR_INVALID_ARGUMENT);
    anist_last_error_code(code, sizeof code);
    CHECK(strcmp(code, "anpr_motivo_missing") == 0);
    CHECK(anist_anpr_cerca(client, "RSSMRA80A01H501X", NULL,
                           ANIST_ANPR_GENERALITA, "x", NULL, audit, ids,
                           &json) == ANIST_ERR_INVALID_CF);
    CHECK(json == NULL);
    printf("anpr: blank motivo -> %s\n", code);

    massive(client, dir, audit, ids, 20);

    anist_client_free(client);
    printf("anpr: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures != 0;
}
