/*
 * libanist from C: ANPR lookups (E002 over PDND) through a sandbox started
 * by the library (127.0.0.1 only, synthetic people): by codice fiscale
 * (C030 first, with ANPR's EN148 warning), then by the ID ANPR it gave,
 * the family, and the arguments refused before any call. The answer is a
 * JSON string with ANPR's own field names.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror anpr.c $(pkg-config --cflags --libs anist)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

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

    anist_client_free(client);
    printf("anpr: %s\n", failures == 0 ? "ok" : "FAILED");
    return failures != 0;
}
