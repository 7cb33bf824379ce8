/*
 * libanist from C: SIDI synchronisation of a school's local database on a
 * sandbox school (synthetic pupils): compare the SIDI file with the local
 * database, apply the automatic actions, decide the pending ones, apply
 * again (nothing left), and see a local edit of a locked field refused.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror sidi.c $(pkg-config --cflags --libs anist)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anist.h"

#include "check.h"

/* The value of "key": "…" after position p in a JSON text (no escapes in
 * the values this example reads), copied into out. */
static const char *json_string(const char *p, const char *key, char *out,
                               size_t len) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *at = strstr(p, pattern);
    if (at == NULL) {
        return NULL;
    }
    at += strlen(pattern);
    const char *end = strchr(at, '"');
    if (end == NULL || (size_t)(end - at) >= len) {
        return NULL;
    }
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = '\0';
    return end;
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    char dir[512], db[600], sidi[600];
    snprintf(dir, sizeof dir, "%s/anist-c-sidi", tmp ? tmp : "/tmp");
    snprintf(db, sizeof db, "%s/locale.sqlite", dir);
    snprintf(sidi, sizeof sidi, "%s/sidi.json", dir);

    OK(anist_sidi_sandbox(dir, 17, 120, 2026));

    char *plan = NULL;
    OK(anist_sidi_diff(db, sidi, &plan));
    CHECK(plan != NULL && strstr(plan, "\"type\":\"import\"") != NULL);
    if (plan == NULL) {
        return 1;
    }

    char *text = NULL;
    OK(anist_sidi_plan_text(plan, 0, &text));
    if (text != NULL) {
        /* The summary line. */
        const char *nl = strchr(text, '\n');
        printf("%.*s\n", nl ? (int)(nl - text) : (int)strlen(text), text);
        anist_string_free(text);
    }

    /* Automatic mode: what needs no decision. */
    AnistSidiReport report;
    memset(&report, 0, sizeof report);
    OK(anist_sidi_apply(db, plan, &report));
    printf("automatic: %u applied, %u records written, %u pending\n",
           report.applied, report.records_written, report.pending);
    CHECK(report.records_written > 0 && report.pending > 0);

    /* Guided mode: decide every pending action by trying the decisions. */
    for (uint32_t id = 1;; id++) {
        char marker[32];
        snprintf(marker, sizeof marker, "{\"id\":%u,", id);
        const char *action = strstr(plan, marker);
        if (action == NULL) {
            break;
        }
        char *decided = NULL;
        const char *tries[] = {"accept_sidi", "keep_local_only"};
        for (size_t t = 0; t < 2 && decided == NULL; t++) {
            if (anist_sidi_decide(plan, id, tries[t], NULL, &decided) != ANIST_OK) {
                decided = NULL;
            }
        }
        const char *ids = strstr(action, "\"local_ids\":[\"");
        const char *next = strstr(action + 1, "{\"id\":");
        if (decided == NULL && ids != NULL && (next == NULL || ids < next)) {
            /* A duplicate: merge into its first local record. */
            char keep[64];
            ids += strlen("\"local_ids\":[\"");
            const char *end = strchr(ids, '"');
            size_t n = end ? (size_t)(end - ids) : 0;
            if (n > 0 && n < sizeof keep) {
                memcpy(keep, ids, n);
                keep[n] = '\0';
                OK(anist_sidi_decide(plan, id, "merge", keep, &decided));
            }
        }
        if (decided != NULL) {
            anist_string_free(plan);
            plan = decided;
        }
    }
    memset(&report, 0, sizeof report);
    OK(anist_sidi_apply(db, plan, &report));
    printf("guided: %u applied, %u records written, %u removed, %u pending\n",
           report.applied, report.records_written, report.records_removed,
           report.pending);
    CHECK(report.pending == 0);

    /* Twice: nothing more. */
    memset(&report, 0, sizeof report);
    OK(anist_sidi_apply(db, plan, &report));
    CHECK(report.records_written == 0);

    /* A pupil imported from SIDI: its surname is locked. */
    char id[64];
    const char *imp = strstr(plan, "\"type\":\"import\",\"local_id\":\"sidi-");
    if (imp != NULL && json_string(imp, "local_id", id, sizeof id) != NULL) {
        int32_t status = anist_sidi_edit(db, "alunno", id, "cognome", "ALTRO");
        char code[64];
        anist_last_error_code(code, sizeof code);
        printf("local edit of a locked surname: status %d, code %s\n", status, code);
        CHECK(status == ANIST_ERR_SIDI_LOCKED);
        CHECK(strcmp(code, "sidi_locked") == 0);
    } else {
        CHECK(!"an imported pupil in the plan");
    }

    /* A decision the action does not take. */
    char *ignored = NULL;
    int32_t status = anist_sidi_decide(plan, 1, "mark_not_for_sidi", NULL, &ignored);
    CHECK(status == ANIST_ERR_SIDI);
    CHECK(ignored == NULL);

    anist_string_free(plan);
    return failures != 0;
}
