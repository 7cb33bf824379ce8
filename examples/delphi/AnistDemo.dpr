{
  AnistDemo: libanist from Delphi / Free Pascal (Delphi mode).

  fpc -Mdelphi -Fl<lib dir> -k-rpath=<lib dir> AnistDemo.dpr && ./AnistDemo

  Exits with code 1 when a check fails (scripts/test_c.sh runs it).
}
program AnistDemo;

{$IFDEF MSWINDOWS}{$APPTYPE CONSOLE}{$ENDIF}

uses
  SysUtils, Anist;

var
  Failures: Integer = 0;

procedure Check(Cond: Boolean; const What: string);
begin
  if not Cond then
  begin
    WriteLn('check failed: ', What);
    Inc(Failures);
  end;
end;

procedure Ok(Status: Int32; const What: string);
begin
  if Status <> ANIST_OK then
  begin
    WriteLn(What, ' -> status ', Status, ' ', AnistLastError);
    Inc(Failures);
  end;
end;

procedure Identifiers;
var
  Code: PAnsiChar;
  Fields: TAnistCfFields;
  Report: TAnistMatchReport;
  Mecc: TAnistMeccInfo;
  StartYear: Int32;
begin
  Check(anist_get_abi_version div 10000 = ANIST_VERSION_MAJOR, 'ABI major');

  Check(anist_cf_validate('RSSMRA80A01H501U') = ANIST_OK, 'valid code');
  Check(anist_cf_validate('RSSMRA80A01H501X') = ANIST_ERR_INVALID_CF, 'wrong check char');
  WriteLn('RSSMRA80A01H501X -> ', AnistLastError);
  Check(Pos('cf_check_char', AnistLastError) = 1, 'error code');
  Check(anist_last_error_position = 16, 'error position');
  Check(anist_cf_validate(nil) = ANIST_ERR_NULL_ARGUMENT, 'nil argument');

  Code := nil;
  Ok(anist_cf_parse(' rssmra80a01h501u ', Code), 'parse');
  Check(AnistTakeString(Code) = 'RSSMRA80A01H501U', 'normal form');

  Ok(anist_cf_decode('RSSMRA80A41H501Y', '2026-01-01', Fields), 'decode');
  Check((Fields.sex = ANIST_SEX_FEMALE) and (Fields.birth_year = 1980)
    and (Fields.birth_month = 1) and (Fields.birth_day = 1), 'decoded fields');
  Check(StrPas(PAnsiChar(@Fields.belfiore[0])) = 'H501', 'belfiore');

  Ok(anist_cf_encode('Rossi', 'Mario', '1980-01-01', 'M', 'Roma', 0, Code), 'encode');
  Check(AnistTakeString(Code) = 'RSSMRA80A01H501U', 'encoded');

  Ok(anist_cf_match('RSSMRA80A01H501U', 'Rossi', 'Luigi', nil, 'M', nil, Report), 'match');
  Check((Report.surname = ANIST_MATCH_MATCHED) and (Report.name = ANIST_MATCH_MISMATCHED)
    and (Report.birth_date = ANIST_MATCH_UNKNOWN) and (Report.no_mismatch = 0), 'match report');

  Ok(anist_id_anpr_parse('AF 414 50AS', Code, nil), 'ID ANPR');
  Check(AnistTakeString(Code) = 'AF41450AS', 'ID ANPR normal form');

  Ok(anist_mecc_parse('rmic8e200x', Mecc), 'meccanografico');
  Check((Mecc.role = ANIST_ROLE_ISTITUTO) and (StrPas(PAnsiChar(@Mecc.code[0])) = 'RMIC8E200X'),
    'meccanografico fields');

  StartYear := -1;
  Check(anist_school_year_parse('2025/2027', StartYear) = ANIST_ERR_INVALID_SCHOOL_YEAR,
    'bad school year');
  Check(StartYear = -1, 'out-param untouched on failure');
  Ok(anist_school_year_parse('2025/26', StartYear), 'school year');
  Check(StartYear = 2025, 'school year start');
end;

procedure Isee;
var
  Client: PAnistClient;
  Person: PAnsiChar;
  PersonCode: AnsiString;
  Q: TAnistIseeQuery;
  Res: TAnistIseeResult;
begin
  Client := nil;
  Ok(anist_client_start_sandbox(42, nil, Client), 'sandbox');
  if Client = nil then
    Exit;
  { This demo keeps no register of its lookups: it says so explicitly
    (the default is anist-audit.sqlite in the working directory). }
  Ok(anist_client_disable_audit(Client), 'no audit');
  Person := nil;
  Ok(anist_sandbox_isee_person(Client, 1, 0, Person), 'ISEE person');
  PersonCode := AnsiString(AnistTakeString(Person));

  FillChar(Q, SizeOf(Q), 0);
  Q.codice_fiscale := PAnsiChar(PersonCode);
  FillChar(Res, SizeOf(Res), 0);
  Ok(anist_isee_indicatore(Client, ANIST_ISEE_SERVICE_INDICATORE_RESIDENTI, @Q, Res),
    'indicatore residenti');
  if Res.found = 1 then
    WriteLn('ISEE: ', Res.isee_cents div 100, ',', Format('%.2d', [Res.isee_cents mod 100]),
      ' EUR (', StrPas(Res.kind), '), DSU ', StrPas(Res.protocollo_dsu),
      ' valid until ', StrPas(Res.valid_until));
  Check((Res.found = 1) and (Res.has_isee = 1) and (Res.isee_cents >= 0)
    and (Res.kind <> nil) and (StrPas(Res.kind) = 'ordinario'), 'ISEE result');
  anist_isee_result_clear(Res);
  Check((Res.kind = nil) and (Res.protocollo_dsu = nil), 'ISEE result cleared');

  { A Riscontro without the DSU protocol is refused before sending. }
  Check(anist_isee_indicatore(Client, ANIST_ISEE_SERVICE_INDICATORE_RISCONTRO, @Q, Res)
    = ANIST_ERR_ISEE_INVALID_REQUEST, 'riscontro without DSU');
  WriteLn('riscontro without DSU -> ', AnistLastError);
  anist_client_free(Client);
end;

procedure Sandbox;
var
  Client: PAnistClient;
  Job: PAnistJob;
  Pupil: PAnsiChar;
  PupilCode: string;
  Verified: TAnistVerifyResult;
  Rec: TAnistAttendance;
  Progress: TAnistJobProgress;
  Summary: TAnistJobSummary;
  Dir, InputPath, OutputPath: string;
  F: TextFile;
  I: Integer;
begin
  Client := nil;
  Ok(anist_client_start_sandbox(42, '2025/26', Client), 'sandbox');
  if Client = nil then
    Exit;
  Dir := GetTempDir(False) + 'anist-pas-' + IntToStr(GetProcessID);
  ForceDirectories(Dir);
  { Every single lookup is recorded in this audit trail. }
  Ok(anist_client_set_audit(Client, PAnsiChar(AnsiString(Dir + '/lookups.sqlite'))), 'audit');

  Ok(anist_sandbox_pupil(Client, 0, Pupil), 'pupil');
  PupilCode := AnistTakeString(Pupil);
  Ok(anist_verify(Client, PAnsiChar(AnsiString(PupilCode)), nil, ANIST_YEAR_CURRENT, Verified), 'verify');
  WriteLn('verify: found ', Verified.found, ', attending ', Verified.attending);
  FillChar(Rec, SizeOf(Rec), 0);
  Ok(anist_ascertain(Client, PAnsiChar(AnsiString(PupilCode)), nil, 2025, Rec), 'ascertain');
  if Rec.codice_istituto <> nil then
    WriteLn('ascertain: istituto ', StrPas(Rec.codice_istituto));
  anist_attendance_clear(Rec);
  Check(FileExists(Dir + '/lookups.sqlite'), 'lookups audited');

  { A bulk job, polled as a GUI timer would. }
  InputPath := Dir + '/alunni.csv';
  OutputPath := Dir + '/esiti.csv';
  AssignFile(F, InputPath);
  Rewrite(F);
  WriteLn(F, 'codice_fiscale');
  for I := 0 to 19 do
  begin
    Ok(anist_sandbox_pupil(Client, I, Pupil), 'pupil');
    WriteLn(F, AnistTakeString(Pupil));
  end;
  CloseFile(F);

  Job := nil;
  Ok(anist_job_start(Client, PAnsiChar(AnsiString(InputPath)), PAnsiChar(AnsiString(OutputPath)),
    nil, '2025/26', nil, nil, Job), 'job start');
  if Job <> nil then
  begin
    repeat
      Sleep(20);
      Ok(anist_job_poll(Job, Progress), 'job poll');
    until Progress.state <> ANIST_JOB_RUNNING;
    Ok(anist_job_result(Job, Summary), 'job result');
    WriteLn('job: ', Summary.rows_done, '/', Summary.rows_total, ' rows, ',
      Summary.compliant, ' compliant, ', Summary.not_obliged, ' not obliged');
    Check((Summary.state = ANIST_JOB_COMPLETED) and (Summary.rows_total = 20)
      and (Summary.rows_done = 20) and (Summary.error = 0), 'job summary');
    anist_job_free(Job);
  end;
  anist_client_free(Client);
  DeleteFile(InputPath);
  DeleteFile(OutputPath);
  DeleteFile(OutputPath + '.journal');
  DeleteFile(OutputPath + '.journal-wal');
  DeleteFile(OutputPath + '.journal-shm');
  { The audit trail is on by default, beside the output. }
  DeleteFile(Dir + '/anist-audit.sqlite');
  DeleteFile(Dir + '/anist-audit.sqlite-wal');
  DeleteFile(Dir + '/anist-audit.sqlite-shm');
  DeleteFile(Dir + '/anist-audit.sqlite.key');
  DeleteFile(Dir + '/lookups.sqlite');
  DeleteFile(Dir + '/lookups.sqlite-wal');
  DeleteFile(Dir + '/lookups.sqlite-shm');
  DeleteFile(Dir + '/lookups.sqlite.key');
  RemoveDir(Dir);
end;

begin
  Identifiers;
  Sandbox;
  Isee;
  if Failures <> 0 then
  begin
    WriteLn('AnistDemo: ', Failures, ' checks failed');
    Halt(1);
  end;
  WriteLn('AnistDemo: all checks passed');
end.
