/*
 * libanist from C: ANIST through a sandbox started by the library
 * (127.0.0.1 only, synthetic population), single calls and a bulk job
 * driven as a GUI would: start, poll, cancel, resume, result, free.
 *
 * Build and run (scripts/test_c.sh does it, under valgrind):
 *   cc -Wall -Wextra -Werror sandbox.c $(pkg-config --cflags --libs anist)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anist.h"

#include "check.h"

/* The log callback runs on the library's threads: count under a lock. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_lines = 0;
static int log_job_lines = 0;

static void on_log(void *user_data, int32_t level, const char *target,
                   const char *message) {
    (void)user_data;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    if (strstr(message, "job") != NULL) {
        log_job_lines++;
    }
    if (level <= ANIST_LOG_INFO) {
        printf("[log %d %s] %s\n", level, target, message);
    }
    pthread_mutex_unlock(&log_lock);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls until the job leaves ANIST_JOB_RUNNING (a GUI would do this from
 * a timer); returns the final state. */
static int32_t wait_for(const AnistJob *job) {
    AnistJobProgress p;
    memset(&p, 0, sizeof p);
    for (int i = 0; i < 30000; i++) { /* at most 10 minutes */
        if (anist_job_poll(job, &p) != ANIST_OK) {
            return -1;
        }
        if (p.state != ANIST_JOB_RUNNING) {
            break;
        }
        sleep_ms(20);
    }
    printf("job: state %d, %llu/%llu rows\n", p.state,
           (unsigned long long)p.rows_done, (unsigned long long)p.rows_total);
    return p.state;
}

int main(void) {
    OK(anist_set_log_callback(on_log, NULL, ANIST_LOG_DEBUG));
    CHECK(anist_set_log_callback(on_log, NULL, 9) == ANIST_ERR_INVALID_ARGUMENT);

    AnistClient *client = NULL;
    CHECK(anist_client_start_sandbox(42, "2025/2027", &client) ==
          ANIST_ERR_INVALID_SCHOOL_YEAR);
    CHECK(client == NULL);
    OK(anist_client_start_sandbox(42, "2025/26", &client));
    if (client == NULL) {
        fprintf(stderr, "sandbox: no client, stopping\n");
        return 1;
    }

    /* A configuration file that does not exist: a config error. */
    AnistClient *none = NULL;
    CHECK(anist_client_from_config("/nonexistent/anist.toml", &none) ==
          ANIST_ERR_CONFIG);
    CHECK(none == NULL);

    /* Every single lookup is recorded in an audit trail (default:
       anist-audit.sqlite in the working directory); this one goes to a
       temporary folder. */
    char dir[200];
    CHECK(make_temp_dir(dir, sizeof dir, "job") != NULL);
    char lookups[256], blocked[256], blocked_trail[300];
    snprintf(lookups, sizeof lookups, "%s/lookups.sqlite", dir);
    snprintf(blocked, sizeof blocked, "%s/blocked", dir);
    snprintf(blocked_trail, sizeof blocked_trail, "%s/audit.sqlite", blocked);
    CHECK(anist_client_set_audit(client, NULL) == ANIST_ERR_NULL_ARGUMENT);
    OK(anist_client_set_audit(client, lookups));

    /* Single calls about a pupil of the synthetic population. */
    char *pupil = NULL;
    OK(anist_sandbox_pupil(client, 0, &pupil));
    CHECK(anist_sandbox_pupil(client, 1000000, &pupil) ==
          ANIST_ERR_INVALID_ARGUMENT);
    AnistVerifyResult verified;
    memset(&verified, 0, sizeof verified);
    OK(anist_verify(client, pupil, NULL, ANIST_YEAR_CURRENT, &verified));
    printf("verify: found %d attending %d esito %d\n", verified.found,
           verified.attending, verified.esito_frequenza);
    CHECK(verified.found == 0 || verified.found == 1);

    AnistAttendance record;
    memset(&record, 0, sizeof record);
    OK(anist_ascertain(client, pupil, NULL, 2025, &record));
    printf("ascertain: found %d esito %d istituto %s\n", record.found,
           record.esito_frequenza,
           record.codice_istituto ? record.codice_istituto : "(none)");
    if (verified.found && verified.attending) {
        CHECK(record.found == 1 && record.codice_istituto != NULL);
    }
    anist_attendance_clear(&record);
    CHECK(record.codice_istituto == NULL);
    anist_attendance_clear(&record); /* twice is harmless */

    /* The previous school year of a sandbox started for 2025/26 is
       2024/25, whatever the machine's date. */
    OK(anist_last_status(client, pupil, 1, &record));
    if (record.found) {
        CHECK(record.school_year_start == 2024);
    }
    anist_attendance_clear(&record);
    int found_previous = 0;
    for (size_t i = 0; i < 20 && !found_previous; i++) {
        char *cf = NULL;
        OK(anist_sandbox_pupil(client, i, &cf));
        if (cf != NULL) {
            OK(anist_last_status(client, cf, 1, &record));
            if (record.found) {
                CHECK(record.school_year_start == 2024);
                found_previous = 1;
            }
            anist_attendance_clear(&record);
            anist_string_free(cf);
        }
    }
    CHECK(found_previous);

    /* Errors are statuses; an invalid code never reaches the network. */
    CHECK(anist_verify(client, "RSSMRA80A01H501X", NULL, ANIST_YEAR_CURRENT,
                       &verified) == ANIST_ERR_INVALID_CF);
    CHECK(anist_verify(client, pupil, NULL, 1234, &verified) ==
          ANIST_ERR_INVALID_ARGUMENT);
    CHECK(anist_verify(NULL, pupil, NULL, 0, &verified) ==
          ANIST_ERR_NULL_ARGUMENT);
    CHECK(anist_verify(client, pupil, "RM", 0, &verified) ==
          ANIST_ERR_INVALID_MECC);

    /* The lookups above are in the trail. A lookup the trail cannot record
       is not answered; opting out is an explicit call. */
    CHECK(access(lookups, R_OK) == 0);
    FILE *block = fopen(blocked, "w"); /* a file where a folder should be */
    CHECK(block != NULL);
    if (block != NULL) {
        fclose(block);
    }
    OK(anist_client_set_audit(client, blocked_trail));
    CHECK(anist_verify(client, pupil, NULL, ANIST_YEAR_CURRENT, &verified) ==
          ANIST_ERR_AUDIT);
    OK(anist_client_disable_audit(client));
    OK(anist_verify(client, pupil, NULL, ANIST_YEAR_CURRENT, &verified));
    OK(anist_client_set_audit(client, lookups));

    /* A bulk job on a small CSV of pupils (and one invalid code). */
    char input[256], output[256], journal[256];
    snprintf(input, sizeof input, "%s/alunni.csv", dir);
    snprintf(output, sizeof output, "%s/esiti.csv", dir);
    snprintf(journal, sizeof journal, "%s/esiti.csv.journal", dir);
    FILE *csv = fopen(input, "w");
    CHECK(csv != NULL);
    enum { ROWS = 60 };
    if (csv != NULL) {
        fprintf(csv, "codice_fiscale\n");
        for (size_t i = 0; i < ROWS - 1; i++) {
            char *cf = NULL;
            OK(anist_sandbox_pupil(client, i, &cf));
            fprintf(csv, "%s\n", cf ? cf : "");
            anist_string_free(cf);
        }
        fprintf(csv, "RSSMRA80A01H501X\n");
        fclose(csv);
    }

    /* Start, then cancel at once: the journal keeps what was answered. */
    AnistJob *job = NULL;
    OK(anist_job_start(client, input, output, NULL, "2025/26",
                       "codice_fiscale", NULL, &job));
    AnistJobSummary summary;
    memset(&summary, 0, sizeof summary);
    int32_t early = anist_job_result(job, &summary);
    CHECK(early == ANIST_ERR_JOB_NOT_READY || early == ANIST_OK);
    OK(anist_job_cancel(job));
    int32_t state = wait_for(job);
    CHECK(state == ANIST_JOB_CANCELLED || state == ANIST_JOB_COMPLETED);
    if (state == ANIST_JOB_CANCELLED) {
        CHECK(anist_job_result(job, &summary) == ANIST_ERR_CANCELLED);
    }
    anist_job_free(job);

    /* Another codice fiscale column on the journal of the cancelled job is
       refused (a job that completed at once removed its journal; one
       cancelled before it read its input has none yet: the timing is the
       machine's). */
    FILE *journal_file = fopen(journal, "rb");
    int has_journal = journal_file != NULL;
    if (journal_file != NULL) {
        fclose(journal_file);
    }
    if (state == ANIST_JOB_CANCELLED && has_journal) {
        job = NULL;
        OK(anist_job_start(client, input, output, journal, "2025/26", NULL,
                           NULL, &job));
        CHECK(wait_for(job) == ANIST_JOB_FAILED);
        CHECK(anist_job_result(job, &summary) == ANIST_ERR_JOB);
        char why[64];
        anist_last_error_code(why, sizeof why);
        CHECK(strcmp(why, "bulk_journal_mismatch") == 0);
        anist_job_free(job);
    }

    /* Start again on the same journal: it resumes and completes. */
    job = NULL;
    OK(anist_job_start(client, input, output, journal, "2025/26",
                       "codice_fiscale", NULL, &job));
    CHECK(wait_for(job) == ANIST_JOB_COMPLETED);
    memset(&summary, 0, sizeof summary);
    OK(anist_job_result(job, &summary));
    printf("summary: %llu rows, %llu compliant, %llu to check, %llu not in "
           "ANIST, %llu not obliged, %llu invalid, %llu errors, %llu calls\n",
           (unsigned long long)summary.rows_total,
           (unsigned long long)summary.compliant,
           (unsigned long long)summary.to_be_checked,
           (unsigned long long)summary.not_in_anist,
           (unsigned long long)summary.not_obliged,
           (unsigned long long)summary.invalid_code,
           (unsigned long long)summary.error,
           (unsigned long long)summary.calls);
    CHECK(summary.state == ANIST_JOB_COMPLETED);
    CHECK(summary.rows_total == ROWS && summary.rows_done == ROWS);
    CHECK(summary.invalid_code == 1);
    CHECK(summary.error == 0);
    CHECK(summary.compliant + summary.to_be_checked + summary.not_in_anist +
              summary.not_obliged + summary.invalid_code + summary.error ==
          ROWS);
    CHECK(access(output, R_OK) == 0);
    /* Finished with every row answered: the journal is removed; the audit
       trail (on by default, beside the output) is there. */
    CHECK(access(journal, F_OK) != 0);
    char audit[256];
    snprintf(audit, sizeof audit, "%s/anist-audit.sqlite", dir);
    CHECK(access(audit, R_OK) == 0);
    anist_job_free(job);

    /* A job whose input does not exist fails; the result says why. */
    char missing[256];
    snprintf(missing, sizeof missing, "%s/missing.csv", dir);
    char out2[256];
    snprintf(out2, sizeof out2, "%s/out2.csv", dir);
    job = NULL;
    OK(anist_job_start(client, missing, out2, NULL, "2025/26", NULL, NULL,
                       &job));
    CHECK(wait_for(job) == ANIST_JOB_FAILED);
    CHECK(anist_job_result(job, &summary) == ANIST_ERR_JOB);
    char code[64];
    anist_last_error_code(code, sizeof code);
    printf("failed job -> %s\n", code);
    CHECK(strncmp(code, "bulk_", 5) == 0);
    anist_job_free(job);
    anist_job_free(NULL); /* allowed */

    anist_string_free(pupil);
    anist_client_free(client);
    anist_client_free(NULL); /* allowed */

    pthread_mutex_lock(&log_lock);
    printf("log callback: %d lines, %d about jobs\n", log_lines,
           log_job_lines);
    CHECK(log_lines > 0 && log_job_lines > 0);
    pthread_mutex_unlock(&log_lock);
    OK(anist_set_log_callback(NULL, NULL, ANIST_LOG_INFO));

    /* Clean up the temporary directory. */
    const char *files[] = {"alunni.csv", "esiti.csv", "esiti.csv.journal",
                           "esiti.csv.journal-wal", "esiti.csv.journal-shm",
                           "out2.csv.journal", "out2.csv.journal-wal",
                           "out2.csv.journal-shm", "anist-audit.sqlite",
                           "anist-audit.sqlite-wal", "anist-audit.sqlite-shm",
                           "anist-audit.sqlite.key", "lookups.sqlite",
                           "lookups.sqlite-wal", "lookups.sqlite-shm",
                           "lookups.sqlite.key", "blocked"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);

    if (failures != 0) {
        fprintf(stderr, "sandbox: %d checks failed\n", failures);
        return 1;
    }
    printf("sandbox: all checks passed\n");
    return 0;
}
