/*
 * libanist from C: INPS ISEE lookups through a sandbox started by the
 * library (127.0.0.1 only, synthetic people): an Indicatore Residenti, an
 * Attestazione, the Riscontro by DSU protocol, a person without ISEE, and
 * the refusals (a Riscontro without DSU protocol, a Comune that is not a
 * capoluogo asking a plain service), each printed with its stable code.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror isee.c $(pkg-config --cflags --libs anist)
 */
#include <stdio.h>
#include <string.h>

#include "anist.h"

#include "check.h"

/* Prints a result; the ISEE is in cents. */
static void print_result(const char *what, const AnistIseeResult *r) {
    if (!r->found) {
        printf("%s: no ISEE (IdRichiesta %s)\n", what,
               r->id_richiesta ? r->id_richiesta : "-");
        return;
    }
    if (r->has_isee) {
        printf("%s: ISEE %s %lld.%02lld EUR", what, r->kind ? r->kind : "?",
               (long long)(r->isee_cents / 100),
               (long long)(r->isee_cents % 100));
    } else {
        printf("%s: ISEE not computable", what);
    }
    printf(", DSU %s presented %s valid until %s, household %d, "
           "omissioni %d, IdRichiesta %s\n",
           r->protocollo_dsu ? r->protocollo_dsu : "-",
           r->presented_on ? r->presented_on : "-",
           r->valid_until ? r->valid_until : "-", r->household_size,
           r->omissioni, r->id_richiesta ? r->id_richiesta : "-");
}

/* Prints the status and the stable code of the last failure; returns the
 * status. */
static int32_t refused(const char *what, int32_t status) {
    char code[64];
    anist_last_error_code(code, sizeof code);
    printf("%s: status %d, code %s\n", what, status, code);
    return status;
}

int main(void) {
    AnistClient *client = NULL;
    OK(anist_client_start_sandbox(42, NULL, &client));
    if (client == NULL) {
        fprintf(stderr, "sandbox: no client, stopping\n");
        return 1;
    }
    /* This example keeps no register of its lookups and says so
       explicitly (the default trail is anist-audit.sqlite in the working
       directory; see sandbox.c for anist_client_set_audit). */
    OK(anist_client_disable_audit(client));

    /* An invented resident with an ISEE, and one without. */
    char *person = NULL;
    char *nobody = NULL;
    OK(anist_sandbox_isee_person(client, 1, 0, &person));
    OK(anist_sandbox_isee_person(client, 0, 0, &nobody));
    if (person == NULL || nobody == NULL) {
        fprintf(stderr, "sandbox: no synthetic people, stopping\n");
        anist_string_free(person);
        anist_string_free(nobody);
        anist_client_free(client);
        return 1;
    }

    /* Indicatore Residenti, by codice fiscale, on the date of the call. */
    AnistIseeQuery query;
    memset(&query, 0, sizeof query);
    query.codice_fiscale = person;
    AnistIseeResult result;
    memset(&result, 0, sizeof result);
    OK(anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI,
                             &query, &result));
    print_result("indicatore residenti", &result);
    CHECK(result.found == 1 && result.has_isee == 1);
    CHECK(result.isee_cents >= 0);
    CHECK(result.kind != NULL && strcmp(result.kind, "ordinario") == 0);
    CHECK(result.protocollo_dsu != NULL &&
          strncmp(result.protocollo_dsu, "INPS-ISEE-", 10) == 0);
    CHECK(result.valid_until != NULL && strlen(result.valid_until) == 10);
    CHECK(result.omissioni == -1);
    long long isee = result.isee_cents;
    char dsu[64] = "";
    if (result.protocollo_dsu != NULL) {
        snprintf(dsu, sizeof dsu, "%s", result.protocollo_dsu);
    }
    anist_isee_result_clear(&result);
    CHECK(result.kind == NULL && result.protocollo_dsu == NULL);
    anist_isee_result_clear(&result); /* twice is harmless */

    /* The attestazione of the same household. */
    OK(anist_isee_attestazione(client, ANIST_ISEE_SERVICE_ATTESTAZIONE_RESIDENTI,
                               &query, &result));
    print_result("attestazione residenti", &result);
    CHECK(result.found == 1 && result.household_size >= 1);
    CHECK(result.omissioni == 0 || result.omissioni == 1);
    CHECK(result.isee_cents == isee);
    CHECK(result.protocollo_dsu != NULL &&
          strcmp(result.protocollo_dsu, dsu) == 0);
    anist_isee_result_clear(&result);

    /* Riscontro: checks the DSU protocol against the person. */
    AnistIseeQuery riscontro = query;
    riscontro.protocollo_dsu = dsu;
    OK(anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO,
                             &riscontro, &result));
    print_result("indicatore riscontro", &result);
    CHECK(result.found == 1 && result.isee_cents == isee);
    anist_isee_result_clear(&result);

    /* Someone INPS has no ISEE for: an answer, not an error. */
    AnistIseeQuery none;
    memset(&none, 0, sizeof none);
    none.codice_fiscale = nobody;
    OK(anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE, &none,
                             &result));
    print_result("indicatore (no ISEE)", &result);
    CHECK(result.found == 0 && result.kind == NULL);
    anist_isee_result_clear(&result);

    /* Refusals are statuses with a stable code; out is left untouched. */
    CHECK(refused("riscontro without DSU protocol",
                  anist_isee_indicatore(client,
                                        ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO,
                                        &query, &result)) ==
          ANIST_ERR_ISEE_INVALID_REQUEST);
    CHECK(result.kind == NULL);
    CHECK(refused("attestazione asked as an indicatore",
                  anist_isee_indicatore(client, ANIST_ISEE_SERVICE_ATTESTAZIONE,
                                        &query, &result)) ==
          ANIST_ERR_ISEE_INVALID_REQUEST);
    CHECK(anist_isee_indicatore(client, 42, &query, &result) ==
          ANIST_ERR_INVALID_ARGUMENT);
    CHECK(anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE, NULL,
                                &result) == ANIST_ERR_NULL_ARGUMENT);
    AnistIseeQuery bad = query;
    bad.codice_fiscale = "RSSMRA80A01H501X";
    CHECK(anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE, &bad,
                                &result) == ANIST_ERR_INVALID_CF);

    /* A Comune that is not a capoluogo may not use the plain services. */
    OK(anist_sandbox_isee_category(client, "comune"));
    CHECK(refused("plain service asked by a Comune",
                  anist_isee_indicatore(client, ANIST_ISEE_SERVICE_INDICATORE,
                                        &query, &result)) ==
          ANIST_ERR_NOT_ELIGIBLE);
    char code[64];
    anist_last_error_code(code, sizeof code);
    CHECK(strcmp(code, "isee_not_eligible") == 0);
    char message[512];
    anist_last_error_message(message, sizeof message);
    CHECK(strstr(message, person) == NULL); /* no codice fiscale in it */

    anist_string_free(person);
    anist_string_free(nobody);
    anist_client_free(client);
    if (failures != 0) {
        fprintf(stderr, "isee: %d checks failed\n", failures);
        return 1;
    }
    printf("isee: all checks passed\n");
    return 0;
}
