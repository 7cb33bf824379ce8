/*
 * libanist from C: identifiers (no network).
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror identifiers.c $(pkg-config --cflags --libs anist)
 *
 * Every check that fails prints what and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anist.h"

#include "check.h"

/* The last error of this thread, as "code: message". */
static void print_last_error(const char *what) {
    char code[64];
    char message[512];
    anist_last_error_code(code, sizeof code);
    anist_last_error_message(message, sizeof message);
    printf("%s -> %s (position %u): %s\n", what, code,
           anist_last_error_position(), message);
}

static int last_code_is(const char *expected) {
    char code[64];
    if (anist_last_error_code(code, sizeof code) != ANIST_OK) {
        return 0;
    }
    return strcmp(code, expected) == 0;
}

int main(void) {
    /* The library loaded is the one the header describes. */
    CHECK(anist_get_abi_version() / 10000 == ANIST_VERSION_MAJOR);
    CHECK(anist_get_abi_version() ==
          ANIST_VERSION_MAJOR * 10000u + ANIST_VERSION_MINOR * 100u +
              ANIST_VERSION_PATCH);

    /* Validate: the status is the answer. */
    CHECK(anist_cf_validate("RSSMRA80A01H501U") == ANIST_OK);
    CHECK(anist_cf_validate("rss mra 80a01 h501u") == ANIST_OK);
    CHECK(anist_cf_validate("RSSMRA80A01H501X") == ANIST_ERR_INVALID_CF);
    CHECK(last_code_is("cf_check_char"));
    CHECK(anist_last_error_position() == 16);
    print_last_error("RSSMRA80A01H501X");
    CHECK(anist_cf_validate("RSSMRA80A01H5") == ANIST_ERR_INVALID_CF);
    CHECK(last_code_is("cf_length"));

    /* NULL arguments give a status, not a crash. */
    CHECK(anist_cf_validate(NULL) == ANIST_ERR_NULL_ARGUMENT);
    CHECK(last_code_is("null_argument"));
    CHECK(anist_cf_parse("RSSMRA80A01H501U", NULL) == ANIST_ERR_NULL_ARGUMENT);
    CHECK(anist_last_error_message(NULL, 10) == ANIST_ERR_NULL_ARGUMENT);

    /* A truncated message is reported, and still NUL-terminated. */
    anist_cf_validate("RSSMRA80A01H501X");
    char tiny[8];
    CHECK(anist_last_error_message(tiny, sizeof tiny) ==
          ANIST_ERR_BUFFER_TOO_SMALL);
    CHECK(strlen(tiny) < sizeof tiny);

    /* Parse: a string of the library, freed with anist_string_free. */
    char *code = NULL;
    CHECK(anist_cf_parse(" rssmra80a01h501u ", &code) == ANIST_OK);
    CHECK(code != NULL && strcmp(code, "RSSMRA80A01H501U") == 0);
    anist_string_free(code);
    anist_string_free(NULL); /* allowed */

    /* Out-params are written only on success. */
    code = NULL;
    CHECK(anist_cf_parse("RSSMRA80A01H501X", &code) == ANIST_ERR_INVALID_CF);
    CHECK(code == NULL);

    /* Decode the fields (century relative to a reference date). */
    AnistCfFields fields;
    CHECK(anist_cf_decode("RSSMRA80A41H501Y", "2026-01-01", &fields) ==
          ANIST_OK);
    CHECK(fields.sex == ANIST_SEX_FEMALE);
    CHECK(fields.birth_year == 1980 && fields.birth_month == 1 &&
          fields.birth_day == 1);
    CHECK(strcmp(fields.belfiore, "H501") == 0);
    CHECK(fields.omocodia_level == 0);
    CHECK(anist_cf_decode("RSSMRA80A41H501Y", "01/01/2026", &fields) ==
          ANIST_ERR_INVALID_ARGUMENT);

    /* Encode, by Belfiore code or by place name. */
    CHECK(anist_cf_encode("Rossi", "Mario", "1980-01-01", "M", "H501", 0,
                          &code) == ANIST_OK);
    CHECK(strcmp(code, "RSSMRA80A01H501U") == 0);
    anist_string_free(code);
    CHECK(anist_cf_encode("Rossi", "Mario", "1980-01-01", "M", "Roma", 0,
                          &code) == ANIST_OK);
    CHECK(strcmp(code, "RSSMRA80A01H501U") == 0);
    anist_string_free(code);
    CHECK(anist_cf_encode("Rossi", "Mario", "1980-01-01", "X", "H501", 0,
                          &code) == ANIST_ERR_INVALID_ARGUMENT);
    CHECK(anist_cf_encode("Rossi", "Mario", "1980-01-01", "M",
                          "Nowhere At All", 0, &code) == ANIST_ERR_PLACE);
    print_last_error("place \"Nowhere At All\"");

    /* Match a code against what is known (NULL: not known). */
    AnistMatchReport report;
    CHECK(anist_cf_match("RSSMRA80A01H501U", "Rossi", "Luigi", "1980-01-01",
                         NULL, "Roma", &report) == ANIST_OK);
    CHECK(report.surname == ANIST_MATCH_MATCHED);
    CHECK(report.name == ANIST_MATCH_MISMATCHED);
    CHECK(report.birth_date == ANIST_MATCH_MATCHED);
    CHECK(report.sex == ANIST_MATCH_UNKNOWN);
    CHECK(report.place == ANIST_MATCH_MATCHED);
    CHECK(report.no_mismatch == 0);

    /* ID ANPR: the check character is advisory only. */
    int32_t check_ok = -1;
    CHECK(anist_id_anpr_parse("AF 414 50AS", &code, &check_ok) == ANIST_OK);
    CHECK(strcmp(code, "AF41450AS") == 0 && check_ok == 1);
    anist_string_free(code);
    CHECK(anist_id_anpr_parse("AA12345AA", &code, NULL) == ANIST_OK);
    anist_string_free(code);
    CHECK(anist_id_anpr_parse("FL46-21JJ", &code, NULL) ==
          ANIST_ERR_INVALID_ID_ANPR);
    CHECK(last_code_is("anpr_char"));

    /* Codice meccanografico: structure, role, advisory check character. */
    AnistMeccInfo mecc;
    CHECK(anist_mecc_parse(" rmic8e200x ", &mecc) == ANIST_OK);
    CHECK(strcmp(mecc.code, "RMIC8E200X") == 0);
    CHECK(strcmp(mecc.province, "RM") == 0);
    CHECK(strcmp(mecc.type_code, "IC") == 0);
    CHECK(mecc.role == ANIST_ROLE_ISTITUTO);
    CHECK(anist_mecc_parse("RM", &mecc) == ANIST_ERR_INVALID_MECC);
    CHECK(last_code_is("mecc_length"));

    /* School years and compulsory education. */
    int32_t start = 0;
    CHECK(anist_school_year_parse("2025/26", &start) == ANIST_OK &&
          start == 2025);
    CHECK(anist_school_year_parse("2025/2027", &start) ==
          ANIST_ERR_INVALID_SCHOOL_YEAR);
    CHECK(start == 2025);
    CHECK(anist_school_year_containing("2026-11-23", &start) == ANIST_OK &&
          start == 2026);
    int32_t status = 0, nth = 0;
    CHECK(anist_obligation_status("2015-03-10", 2025, &status, &nth) ==
          ANIST_OK);
    CHECK(status == ANIST_OBLIGATION_COMPULSORY && nth == 5);

    /* Synthetic codes (invented people) for tests and benchmarks. */
    enum { N = 1000 };
    char *corpus = malloc((size_t)N * ANIST_SYNTHETIC_STRIDE);
    CHECK(corpus != NULL);
    if (corpus != NULL) {
        CHECK(anist_synthetic_codes(7, N, corpus,
                                    (size_t)N * ANIST_SYNTHETIC_STRIDE) ==
              ANIST_OK);
        int valid = 0;
        for (int i = 0; i < N; i++) {
            if (anist_cf_validate(corpus + (size_t)i * ANIST_SYNTHETIC_STRIDE) ==
                ANIST_OK) {
                valid++;
            }
        }
        printf("synthetic corpus: %d of %d valid\n", valid, N);
        CHECK(valid > N * 3 / 4 && valid < N);
        free(corpus);
    }

    if (failures != 0) {
        fprintf(stderr, "identifiers: %d checks failed\n", failures);
        return 1;
    }
    printf("identifiers: all checks passed\n");
    return 0;
}
