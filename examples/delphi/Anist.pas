{
  Anist.pas: libanist for Delphi and Free Pascal (Delphi mode).

  A line-by-line translation of bindings-c/include/anist.h (ABI 0.1.0):
  cdecl, Int32 statuses (ANIST_OK = 0), PAnsiChar strings (UTF-8).
  Strings returned by the library are freed with anist_string_free;
  anist_last_error_message / anist_last_error_code describe the last failure
  of the calling thread. Long jobs are start / poll / cancel / result /
  free, so that the GUI thread never blocks.

  Calling convention: cdecl on every platform. The library's functions are
  Rust `extern "C"`, which is cdecl on 32-bit Windows (not stdcall): every
  declaration below says cdecl, and so must the log callback.

  Delphi (Windows, 32- or 64-bit): put anist.dll of the same bitness (x86/
  or x64/ of the Windows zip) beside the executable.
  Free Pascal (Linux): fpc -Mdelphi -Fl<dir of libanist.so> -k-rpath=<dir>.
  Free Pascal (Win64, cross-compiled): fpc -Twin64 -Mdelphi ... ; no import
  library is needed (external 'anist.dll' binds at load time).

  SPDX-License-Identifier: EUPL-1.2
}
unit Anist;

{$IFDEF FPC}
  {$MODE DELPHI}
  {$PACKRECORDS C}
{$ENDIF}

interface

const
  { The library per platform: anist.dll on Windows, 32- and 64-bit alike
    (a 32-bit program loads the x86 build, a 64-bit one the x64 build);
    libanist.so on Linux (Free Pascal links it as -lanist). }
{$IFDEF MSWINDOWS}
  AnistLib = 'anist.dll';
{$ELSE}
  {$IFDEF DARWIN}
  AnistLib = 'libanist.dylib';
  {$ELSE}
  AnistLib = 'libanist.so';
  {$ENDIF}
{$ENDIF}

  ANIST_VERSION_MAJOR = 0;
  ANIST_VERSION_MINOR = 1;
  ANIST_VERSION_PATCH = 0;

  { Statuses }
  ANIST_OK = 0;
  ANIST_ERR_NULL_ARGUMENT = 1;
  ANIST_ERR_INVALID_ARGUMENT = 2;
  ANIST_ERR_BUFFER_TOO_SMALL = 3;
  ANIST_ERR_PANIC = 4;
  ANIST_ERR_INVALID_CF = 10;
  ANIST_ERR_INVALID_ID_ANPR = 11;
  ANIST_ERR_INVALID_MECC = 12;
  ANIST_ERR_INVALID_SCHOOL_YEAR = 13;
  ANIST_ERR_PLACE = 14;
  ANIST_ERR_CONFIG = 20;
  ANIST_ERR_SANDBOX = 21;
  ANIST_ERR_NOT_SENT = 30;
  ANIST_ERR_AUTH = 31;
  ANIST_ERR_REFUSED = 32;
  ANIST_ERR_QUOTA_EXCEEDED = 33;
  ANIST_ERR_THROTTLED = 34;
  ANIST_ERR_TIMEOUT = 35;
  ANIST_ERR_NETWORK = 36;
  ANIST_ERR_SERVER = 37;
  ANIST_ERR_UNEXPECTED_ANSWER = 38;
  ANIST_ERR_JOB = 40;
  ANIST_ERR_JOB_NOT_READY = 41;
  ANIST_ERR_CANCELLED = 42;
  ANIST_ERR_AUDIT = 43;
  ANIST_ERR_NOT_ELIGIBLE = 50;
  ANIST_ERR_ISEE_REFUSED = 51;
  ANIST_ERR_ISEE_UNAVAILABLE = 52;
  ANIST_ERR_ISEE_INVALID_REQUEST = 53;
  ANIST_ERR_SIDI = 60;
  ANIST_ERR_SIDI_LOCKED = 61;
  ANIST_ERR_INFANZIA = 70;
  ANIST_ERR_INFANZIA_WINDOW = 71;
  ANIST_ERR_INFANZIA_CHECK = 72;
  ANIST_ERR_ANPR_AMBIGUOUS = 80;
  ANIST_ERR_ANPR_NOT_COMPETENT = 81;
  ANIST_ERR_ANPR_REFUSED = 82;
  ANIST_ERR_DENIED = 90;
  ANIST_ERR_RIVESTIZIONE = 91;
  ANIST_ERR_OTHER = 99;

  ANIST_YEAR_CURRENT = 0;
  ANIST_YEAR_PREVIOUS = -1;

  ANIST_SEX_MALE = 1;
  ANIST_SEX_FEMALE = 2;

  ANIST_MATCH_UNKNOWN = 0;
  ANIST_MATCH_MATCHED = 1;
  ANIST_MATCH_MISMATCHED = 2;

  ANIST_ROLE_ISTITUTO = 1;
  ANIST_ROLE_PLESSO = 2;
  ANIST_ROLE_EITHER = 3;

  ANIST_MECC_CHECK_VALID = 1;
  ANIST_MECC_CHECK_MISMATCH = 2;
  ANIST_MECC_CHECK_NOT_APPLICABLE = 3;

  ANIST_OBLIGATION_NOT_YET = 1;
  ANIST_OBLIGATION_COMPULSORY = 2;
  ANIST_OBLIGATION_DIRITTO_DOVERE = 3;
  ANIST_OBLIGATION_BEYOND = 4;

  ANIST_SYNTHETIC_STRIDE = 32;

  ANIST_JOB_RUNNING = 1;
  ANIST_JOB_COMPLETED = 2;
  ANIST_JOB_PAUSED = 3;
  ANIST_JOB_FAILED = 4;
  ANIST_JOB_CANCELLED = 5;

  { ISEE services }
  ANIST_ISEE_SERVICE_INDICATORE_OPERATORI = 1;
  ANIST_ISEE_SERVICE_ATTESTAZIONE_OPERATORI = 2;
  ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI = 3;
  ANIST_ISEE_SERVICE_ATTESTAZIONE_RESIDENTI = 4;
  ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO = 5;
  ANIST_ISEE_SERVICE_INDICATORE_NUCLEO_RISCONTRO = 6;
  ANIST_ISEE_SERVICE_INDICATORE = 7;
  ANIST_ISEE_SERVICE_ATTESTAZIONE = 8;

  ANIST_LOG_ERROR = 1;
  ANIST_LOG_WARN = 2;
  ANIST_LOG_INFO = 3;
  ANIST_LOG_DEBUG = 4;
  ANIST_LOG_TRACE = 5;

type
  PInt32 = ^Int32;
  PPAnsiChar = ^PAnsiChar;
  { size_t }
  TAnistSize = NativeUInt;

  { Opaque handles }
  PAnistClient = type Pointer;
  PAnistJob = type Pointer;
  PAnistIseeJob = type Pointer;

  TAnistVerifyResult = record
    found: Int32;
    attending: Int32;
    esito_frequenza: Int32;
  end;

  { Release the strings with anist_attendance_clear. }
  TAnistAttendance = record
    found: Int32;
    attending: Int32;
    esito_frequenza: Int32;
    anno_corso: Int32;
    school_year_start: Int32;
    codice_istituto: PAnsiChar;
    denominazione_istituto: PAnsiChar;
    codice_plesso: PAnsiChar;
    denominazione_plesso: PAnsiChar;
    percorso_studi: PAnsiChar;
  end;

  { One ISEE question: zero it (FillChar) and set what you need; nil is
    "not given". }
  TAnistIseeQuery = record
    codice_fiscale: PAnsiChar;
    protocollo_dsu: PAnsiChar;
    valid_on: PAnsiChar;
    prestazione: PAnsiChar;
    kind: PAnsiChar;
    legacy_v1: Int32;
  end;
  PAnistIseeQuery = ^TAnistIseeQuery;

  { Release the strings with anist_isee_result_clear. }
  TAnistIseeResult = record
    isee_cents: Int64;
    found: Int32;
    has_isee: Int32;
    kind: PAnsiChar;
    protocollo_dsu: PAnsiChar;
    presented_on: PAnsiChar;
    valid_until: PAnsiChar;
    id_richiesta: PAnsiChar;
    household_size: Int32;
    omissioni: Int32;
    corrente_valid_until: PAnsiChar; { ISEE corrente: last valid day, else nil }
  end;

  TAnistCfFields = record
    sex: Int32;
    birth_year: Int32;
    birth_month: Int32;
    birth_day: Int32;
    belfiore: array[0..4] of AnsiChar;
    omocodia_level: Int32;
    place_plausible: Int32;
  end;

  TAnistMatchReport = record
    surname: Int32;
    name: Int32;
    birth_date: Int32;
    sex: Int32;
    place: Int32;
    no_mismatch: Int32;
  end;

  TAnistMeccInfo = record
    code: array[0..10] of AnsiChar;
    province: array[0..2] of AnsiChar;
    type_code: array[0..2] of AnsiChar;
    role: Int32;
    check: Int32;
    expected_check_char: AnsiChar;
  end;

  TAnistJobProgress = record
    state: Int32;
    rows_done: UInt64;
    rows_total: UInt64;
    compliant: UInt64;
    to_be_checked: UInt64;
    not_in_anist: UInt64;
    not_obliged: UInt64;
    invalid_code: UInt64;
    error: UInt64;
    rate: Double;
  end;

  TAnistJobSummary = record
    state: Int32;
    rows_total: UInt64;
    rows_done: UInt64;
    distinct_codes: UInt64;
    compliant: UInt64;
    to_be_checked: UInt64;
    not_in_anist: UInt64;
    not_obliged: UInt64;
    invalid_code: UInt64;
    error: UInt64;
    calls: UInt64;
    retries: UInt64;
    duration_seconds: Double;
  end;

  { The ISEE batch. Zero it (FillChar) and set what you need; nil strings are
    "not given". no_audit <> 0 turns the audit trail off (on by default). }
  TAnistIseeBatchSpec = record
    input: PAnsiChar;
    output: PAnsiChar;
    journal: PAnsiChar;
    service: Int32;
    valid_on: PAnsiChar;
    prestazione: PAnsiChar;
    kind: PAnsiChar;
    cf_column: PAnsiChar;
    audit: PAnsiChar;
    no_audit: Int32;
  end;
  PAnistIseeBatchSpec = ^TAnistIseeBatchSpec;

  TAnistIseeJobProgress = record
    state: Int32;
    rows_done: UInt64;
    rows_total: UInt64;
    found: UInt64;
    no_isee: UInt64;
    refused: UInt64;
    invalid_input: UInt64;
    error: UInt64;
    rate: Double;
  end;

  TAnistIseeJobSummary = record
    state: Int32;
    rows_total: UInt64;
    rows_done: UInt64;
    distinct_questions: UInt64;
    found: UInt64;
    no_isee: UInt64;
    refused: UInt64;
    invalid_input: UInt64;
    error: UInt64;
    calls: UInt64;
    retries: UInt64;
    duration_seconds: Double;
  end;

  { Called from any thread, the library's own included. }
  TAnistLogCallback = procedure(UserData: Pointer; Level: Int32;
    Target: PAnsiChar; Text: PAnsiChar); cdecl;

function anist_get_abi_version: UInt32; cdecl; external AnistLib;

{ Errors of the calling thread }
function anist_last_error_message(Buf: PAnsiChar; Len: TAnistSize): Int32; cdecl; external AnistLib;
function anist_last_error_code(Buf: PAnsiChar; Len: TAnistSize): Int32; cdecl; external AnistLib;
function anist_last_error_position: UInt32; cdecl; external AnistLib;
procedure anist_string_free(S: PAnsiChar); cdecl; external AnistLib;

{ Identifiers }
function anist_cf_validate(Code: PAnsiChar): Int32; cdecl; external AnistLib;
function anist_cf_parse(Code: PAnsiChar; out OutCode: PAnsiChar): Int32; cdecl; external AnistLib;
function anist_cf_decode(Code: PAnsiChar; ReferenceDate: PAnsiChar;
  out Fields: TAnistCfFields): Int32; cdecl; external AnistLib;
function anist_cf_encode(Surname, Name, BirthDate, Sex, Place: PAnsiChar;
  OmocodiaLevel: UInt32; out OutCode: PAnsiChar): Int32; cdecl; external AnistLib;
function anist_cf_match(Code, Surname, Name, BirthDate, Sex, Place: PAnsiChar;
  out Report: TAnistMatchReport): Int32; cdecl; external AnistLib;
function anist_id_anpr_parse(Input: PAnsiChar; out OutCode: PAnsiChar;
  OutProbableCheckOk: PInt32): Int32; cdecl; external AnistLib;
function anist_mecc_parse(Input: PAnsiChar; out Info: TAnistMeccInfo): Int32; cdecl; external AnistLib;
function anist_school_year_parse(Input: PAnsiChar; out StartYear: Int32): Int32; cdecl; external AnistLib;
function anist_school_year_containing(Date: PAnsiChar; out StartYear: Int32): Int32; cdecl; external AnistLib;
function anist_obligation_status(BirthDate: PAnsiChar; SchoolYearStart: Int32;
  out Status: Int32; YearOfObligation: PInt32): Int32; cdecl; external AnistLib;
function anist_synthetic_codes(Seed: UInt64; Count: TAnistSize; Buf: PAnsiChar;
  BufLen: TAnistSize): Int32; cdecl; external AnistLib;

{ ANIST client }
function anist_client_from_config(Path: PAnsiChar; out Client: PAnistClient): Int32; cdecl; external AnistLib;
function anist_client_start_sandbox(Seed: UInt64; CurrentSchoolYear: PAnsiChar;
  out Client: PAnistClient): Int32; cdecl; external AnistLib;
procedure anist_client_free(Client: PAnistClient); cdecl; external AnistLib;
function anist_client_set_audit(Client: PAnistClient; Path: PAnsiChar): Int32; cdecl; external AnistLib;
function anist_client_disable_audit(Client: PAnistClient): Int32; cdecl; external AnistLib;
function anist_sandbox_pupil(Client: PAnistClient; Index: TAnistSize;
  out OutCode: PAnsiChar): Int32; cdecl; external AnistLib;
function anist_verify(Client: PAnistClient; Subject, School: PAnsiChar; Year: Int32;
  out VerifyResult: TAnistVerifyResult): Int32; cdecl; external AnistLib;
function anist_ascertain(Client: PAnistClient; Subject, School: PAnsiChar; Year: Int32;
  out Rec: TAnistAttendance): Int32; cdecl; external AnistLib;
function anist_last_status(Client: PAnistClient; Subject: PAnsiChar; PreviousYear: Int32;
  out Rec: TAnistAttendance): Int32; cdecl; external AnistLib;
procedure anist_attendance_clear(var Rec: TAnistAttendance); cdecl; external AnistLib;

{ INPS ISEE lookups (Query by pointer: pass @Q) }
function anist_isee_indicatore(Client: PAnistClient; Service: Int32; Query: PAnistIseeQuery;
  out OutResult: TAnistIseeResult): Int32; cdecl; external AnistLib;
function anist_isee_attestazione(Client: PAnistClient; Service: Int32; Query: PAnistIseeQuery;
  out OutResult: TAnistIseeResult): Int32; cdecl; external AnistLib;
procedure anist_isee_result_clear(var Res: TAnistIseeResult); cdecl; external AnistLib;
function anist_sandbox_isee_person(Client: PAnistClient; WithIsee: Int32; Index: TAnistSize;
  out OutCode: PAnsiChar): Int32; cdecl; external AnistLib;
function anist_sandbox_isee_category(Client: PAnistClient; Category: PAnsiChar): Int32; cdecl; external AnistLib;

{ Bulk jobs }
function anist_job_start(Client: PAnistClient; Input, Output, Journal, SchoolYear,
  CfColumn, Audit: PAnsiChar; out Job: PAnistJob): Int32; cdecl; external AnistLib;
function anist_job_poll(Job: PAnistJob; out Progress: TAnistJobProgress): Int32; cdecl; external AnistLib;
function anist_job_cancel(Job: PAnistJob): Int32; cdecl; external AnistLib;
function anist_job_result(Job: PAnistJob; out Summary: TAnistJobSummary): Int32; cdecl; external AnistLib;
procedure anist_job_free(Job: PAnistJob); cdecl; external AnistLib;

{ The ISEE batch (audit trail on unless Spec.no_audit <> 0) }
function anist_isee_job_start(Client: PAnistClient; Spec: PAnistIseeBatchSpec;
  out Job: PAnistIseeJob): Int32; cdecl; external AnistLib;
function anist_isee_job_poll(Job: PAnistIseeJob; out Progress: TAnistIseeJobProgress): Int32; cdecl; external AnistLib;
function anist_isee_job_cancel(Job: PAnistIseeJob): Int32; cdecl; external AnistLib;
function anist_isee_job_result(Job: PAnistIseeJob; out Summary: TAnistIseeJobSummary): Int32; cdecl; external AnistLib;
procedure anist_isee_job_free(Job: PAnistIseeJob); cdecl; external AnistLib;

{ Log callback (nil removes it) }
function anist_set_log_callback(Callback: TAnistLogCallback; UserData: Pointer;
  MaxLevel: Int32): Int32; cdecl; external AnistLib;

{ Helpers (Pascal side only) }

{ The last error of the calling thread, as "code: message". }
function AnistLastError: string;
{ Copies a library string into a Pascal string and frees it. }
function AnistTakeString(S: PAnsiChar): string;

implementation

function AnistLastError: string;
var
  Code: array[0..63] of AnsiChar;
  Msg: array[0..511] of AnsiChar;
begin
  anist_last_error_code(@Code[0], SizeOf(Code));
  anist_last_error_message(@Msg[0], SizeOf(Msg));
  Result := string(AnsiString(PAnsiChar(@Code[0]))) + ': ' +
    string(UTF8String(PAnsiChar(@Msg[0])));
end;

function AnistTakeString(S: PAnsiChar): string;
begin
  if S = nil then
    Result := ''
  else
  begin
    Result := string(UTF8String(S));
    anist_string_free(S);
  end;
end;

end.
