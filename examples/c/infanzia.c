/*
 * libanist from C: the Piemonte 0-3 survey. The attendance period of a
 * service under the three rules of the notice, the average of raw monthly
 * counts, the submission window at 11:59 and 12:00 Rome time (CEST, UTC+2),
 * and the check and CSV of a small form given as JSON (what `anist infanzia
 * export --json` writes). Synthetic data only.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror infanzia.c $(pkg-config --cflags --libs anist)
 */
#include <stdio.h>
#include <string.h>

#include "anist.h"

#include "check.h"

/* A form with two services: one with counts, one declared NON RAGGIUNTO
 * without its (mandatory) reason. */
static const char *FORM =
    "{\"comune\":\"Comune di Esempio\","
    "\"survey\":{\"year\":2026,\"reference_start\":\"2025-03-03\","
    "\"reference_end\":\"2026-02-27\",\"survey_start\":\"2026-04-27\","
    "\"window_opens\":\"2026-04-27T12:00\",\"window_closes\":\"2026-05-18T12:00\"},"
    "\"method\":\"monthly\",\"state\":{\"state\":\"BOZZA\"},"
    "\"services\":["
    "{\"service\":{\"id\":\"S1\",\"kind\":\"micro_nido\",\"name\":\"Il Bruco\","
    "\"address\":\"Via Verdi 2\",\"manager\":\"Coop. Esempio\",\"capacity\":18,"
    "\"authorisation\":{\"reference\":\"Det. 5/2019\",\"date\":\"2019-09-02\"}},"
    "\"counts\":[{\"unit\":\"2025-03\",\"children\":15},{\"unit\":\"2025-04\",\"children\":16}]},"
    "{\"service\":{\"id\":\"S2\",\"kind\":\"nido_in_famiglia\",\"name\":\"Casa Esempio\","
    "\"address\":\"Via Rossi 1\",\"manager\":\"Associazione Esempio\",\"capacity\":5,"
    "\"authorisation\":{\"reference\":\"Det. 9/2021\",\"date\":\"2021-01-10\"}},"
    "\"declaration\":{\"declaration\":\"NON_RAGGIUNTO\",\"reason\":\" \"}}"
    "],\"history\":[]}";

static void period(const char *authorised, const char *activation,
                   int32_t expected_rule) {
    AnistInfanziaPeriod p;
    memset(&p, 0, sizeof p);
    OK(anist_infanzia_period(2026, authorised, activation, &p));
    printf("authorised %s, active %s: %s .. %s (rule %d)\n", authorised,
           activation ? activation : "-", p.start, p.end, p.rule);
    CHECK(p.rule == expected_rule);
}

int main(void) {
    /* The three rules, and a service that started after the survey start. */
    period("2019-09-02", NULL, ANIST_INFANZIA_RULE_REFERENCE);
    period("2025-09-15", NULL, ANIST_INFANZIA_RULE_FROM_AUTHORISATION);
    period("2026-01-10", "2026-03-09", ANIST_INFANZIA_RULE_FROM_ACTIVATION);
    AnistInfanziaPeriod late;
    int32_t status = anist_infanzia_period(2026, "2026-05-01", NULL, &late);
    char code[64];
    anist_last_error_code(code, sizeof code);
    printf("authorised 2026-05-01: status %d, code %s\n", status, code);
    CHECK(status == ANIST_ERR_INFANZIA);
    CHECK(strcmp(code, "infanzia_not_active") == 0);

    /* The default average: monthly counts, half-up (10 and 11 give 11). */
    AnistInfanziaCount counts[] = {
        {2025, 3, 0, 10}, {2025, 4, 0, 11}, {2026, 3, 0, 99} /* outside */
    };
    AnistInfanziaAverage avg;
    memset(&avg, 0, sizeof avg);
    OK(anist_infanzia_average(counts, 3, "2025-03-03", "2026-02-27",
                              ANIST_INFANZIA_METHOD_MONTHLY, &avg));
    printf("average %llu (%llu hundredths) over %u months, %u left out\n",
           (unsigned long long)avg.average,
           (unsigned long long)avg.average_hundredths, avg.units,
           avg.outside_period);
    CHECK(avg.average == 11 && avg.average_hundredths == 1050);
    CHECK(avg.units == 2 && avg.outside_period == 1);
    CHECK(anist_infanzia_average(counts, 3, "2025-03-03", "2026-02-27",
                                 ANIST_INFANZIA_METHOD_DAILY,
                                 &avg) == ANIST_ERR_INFANZIA);

    /* The window: 27 April 2026 09:59 / 10:00 UTC = 11:59 / 12:00 in Rome. */
    int32_t w = -1;
    OK(anist_infanzia_window(2026, 1777283940, &w)); /* 2026-04-27T09:59Z */
    CHECK(w == ANIST_INFANZIA_WINDOW_NOT_YET_OPEN);
    OK(anist_infanzia_window(2026, 1777284000, &w)); /* 2026-04-27T10:00Z */
    CHECK(w == ANIST_INFANZIA_WINDOW_OPEN);
    OK(anist_infanzia_window(2026, 1779098340, &w)); /* 2026-05-18T09:59Z */
    CHECK(w == ANIST_INFANZIA_WINDOW_OPEN);
    OK(anist_infanzia_window(2026, 1779098400, &w)); /* 2026-05-18T10:00Z */
    CHECK(w == ANIST_INFANZIA_WINDOW_CLOSED);
    printf("window at 2026-05-18 12:00 Rome: %d (closed)\n", w);

    /* The check lists every problem: here the missing reason. */
    uint32_t problems = 0;
    char *report = NULL;
    OK(anist_infanzia_check(FORM, &problems, &report));
    printf("%u problem(s):\n%s", problems, report ? report : "");
    CHECK(problems == 1);
    CHECK(report != NULL && strncmp(report, "reason_missing\tS2\t", 18) == 0);
    anist_string_free(report);

    /* The computed CSV for Italian Excel. */
    char *csv = NULL;
    OK(anist_infanzia_compute_csv(FORM, &csv));
    CHECK(csv != NULL && strstr(csv, "S1;Micro-nido;Il Bruco;") != NULL);
    CHECK(csv != NULL && strstr(csv, ";2;31;16;15,50") != NULL);
    if (csv) {
        printf("%s", csv);
    }
    anist_string_free(csv);

    /* Not a form. */
    CHECK(anist_infanzia_check("{}", &problems, &report) == ANIST_ERR_INFANZIA);
    CHECK(anist_infanzia_check(NULL, &problems, &report) == ANIST_ERR_NULL_ARGUMENT);

    return failures != 0;
}
