//! The school's data on both sides: the SIDI snapshot (typed records, as
//! downloaded) and the local database (records whose synchronisable fields
//! carry provenance and a lock).

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::SidiError;

/// The kind of record, in SIDI's synchronisation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A sede (plesso), keyed by codice meccanografico.
    Sede,
    /// A class, keyed by `MECCANOGRAFICO/<anno><sezione>` (e.g. `RMEE00101A/1A`).
    Classe,
    /// A pupil, keyed locally by the vendor's record id and matched by
    /// codice fiscale.
    Alunno,
}

impl Entity {
    /// `sede`, `classe`, `alunno`.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Sede => "sede",
            Entity::Classe => "classe",
            Entity::Alunno => "alunno",
        }
    }

    /// Parses [`Entity::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sede" => Some(Entity::Sede),
            "classe" => Some(Entity::Classe),
            "alunno" => Some(Entity::Alunno),
            _ => None,
        }
    }

    /// The fields SIDI owns for this kind of record.
    pub fn synced_fields(self) -> &'static [SyncField] {
        use SyncField as F;
        match self {
            Entity::Sede => &[F::Denominazione, F::Comune],
            Entity::Classe => &[
                F::Sede,
                F::AnnoCorso,
                F::Sezione,
                F::TempoScuola,
                F::Indirizzo,
            ],
            Entity::Alunno => &[
                F::CodiceFiscale,
                F::CfValidatoAde,
                F::CfProvvisorio,
                F::Cognome,
                F::Nome,
                F::Sesso,
                F::DataNascita,
                F::LuogoNascita,
                F::Cittadinanza,
                F::Classe,
                F::AnnoScolastico,
                F::StatoFrequenza,
            ],
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A field SIDI owns. Values are kept as canonical text (dates ISO
/// `YYYY-MM-DD`, flags `true`/`false`), so that every field compares and
/// stores the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SyncField {
    /// Sede: name.
    Denominazione,
    /// Sede: comune (Belfiore code or name, as SIDI gives it).
    Comune,
    /// Classe: codice meccanografico of its sede.
    Sede,
    /// Classe: anno di corso (1-5).
    AnnoCorso,
    /// Classe: sezione (`A`, `B`…).
    Sezione,
    /// Classe: ministerial tempo-scuola code.
    TempoScuola,
    /// Classe: ministerial indirizzo code (empty when none).
    Indirizzo,
    /// Alunno: codice fiscale.
    CodiceFiscale,
    /// Alunno: the code was validated by the Agenzia delle Entrate.
    CfValidatoAde,
    /// Alunno: the code is provisional (fittizio, foreign pupils awaiting one).
    CfProvvisorio,
    /// Alunno: surname.
    Cognome,
    /// Alunno: given name.
    Nome,
    /// Alunno: `M` or `F`.
    Sesso,
    /// Alunno: date of birth.
    DataNascita,
    /// Alunno: place of birth (Belfiore code).
    LuogoNascita,
    /// Alunno: citizenship (ISTAT state code or name, as SIDI gives it).
    Cittadinanza,
    /// Alunno: the class key (`MECCANOGRAFICO/<anno><sezione>`).
    Classe,
    /// Alunno: school year of the position (`2025/2026`).
    AnnoScolastico,
    /// Alunno: attendance state ([`StatoFrequenza::code`]).
    StatoFrequenza,
}

impl SyncField {
    /// The stable snake-case name (`cognome`, `data_nascita`…).
    pub fn as_str(self) -> &'static str {
        use SyncField as F;
        match self {
            F::Denominazione => "denominazione",
            F::Comune => "comune",
            F::Sede => "sede",
            F::AnnoCorso => "anno_corso",
            F::Sezione => "sezione",
            F::TempoScuola => "tempo_scuola",
            F::Indirizzo => "indirizzo",
            F::CodiceFiscale => "codice_fiscale",
            F::CfValidatoAde => "cf_validato_ade",
            F::CfProvvisorio => "cf_provvisorio",
            F::Cognome => "cognome",
            F::Nome => "nome",
            F::Sesso => "sesso",
            F::DataNascita => "data_nascita",
            F::LuogoNascita => "luogo_nascita",
            F::Cittadinanza => "cittadinanza",
            F::Classe => "classe",
            F::AnnoScolastico => "anno_scolastico",
            F::StatoFrequenza => "stato_frequenza",
        }
    }

    /// Every field.
    pub const ALL: [SyncField; 19] = [
        SyncField::Denominazione,
        SyncField::Comune,
        SyncField::Sede,
        SyncField::AnnoCorso,
        SyncField::Sezione,
        SyncField::TempoScuola,
        SyncField::Indirizzo,
        SyncField::CodiceFiscale,
        SyncField::CfValidatoAde,
        SyncField::CfProvvisorio,
        SyncField::Cognome,
        SyncField::Nome,
        SyncField::Sesso,
        SyncField::DataNascita,
        SyncField::LuogoNascita,
        SyncField::Cittadinanza,
        SyncField::Classe,
        SyncField::AnnoScolastico,
        SyncField::StatoFrequenza,
    ];

    /// Parses [`SyncField::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// Whether the value is personal data (masked in `Debug` and logs).
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            SyncField::CodiceFiscale
                | SyncField::Cognome
                | SyncField::Nome
                | SyncField::DataNascita
                | SyncField::LuogoNascita
        )
    }

    /// The Italian label shown to clerks.
    pub fn label_it(self) -> &'static str {
        use SyncField as F;
        match self {
            F::Denominazione => "denominazione",
            F::Comune => "comune",
            F::Sede => "sede",
            F::AnnoCorso => "anno di corso",
            F::Sezione => "sezione",
            F::TempoScuola => "tempo scuola",
            F::Indirizzo => "indirizzo di studio",
            F::CodiceFiscale => "codice fiscale",
            F::CfValidatoAde => "CF validato dall'Agenzia delle Entrate",
            F::CfProvvisorio => "CF provvisorio",
            F::Cognome => "cognome",
            F::Nome => "nome",
            F::Sesso => "sesso",
            F::DataNascita => "data di nascita",
            F::LuogoNascita => "luogo di nascita",
            F::Cittadinanza => "cittadinanza",
            F::Classe => "classe",
            F::AnnoScolastico => "anno scolastico",
            F::StatoFrequenza => "stato di frequenza",
        }
    }
}

impl fmt::Display for SyncField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Masks a personal value for `Debug`: its first three characters, then `***`.
pub(crate) fn mask(value: &str) -> String {
    let head: String = value.chars().take(3).collect();
    format!("{head}***")
}

/// Where a field's value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Provenance {
    /// Entered in the local database.
    Local,
    /// Written by the synchronisation `sync_id`.
    Sidi {
        /// The id of the SIDI download that wrote it.
        sync_id: String,
    },
}

/// A synchronisable field's value with its provenance and lock.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracked {
    /// Canonical text of the value.
    pub value: String,
    /// Where it comes from.
    pub provenance: Provenance,
    /// Locked fields are managed on SIDI only.
    pub locked: bool,
}

impl Tracked {
    /// A value entered locally, unlocked.
    pub fn local(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            provenance: Provenance::Local,
            locked: false,
        }
    }
}

impl fmt::Debug for Tracked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("value", &mask(&self.value))
            .field("provenance", &self.provenance)
            .field("locked", &self.locked)
            .finish()
    }
}

/// What the school decided about a record SIDI does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SidiMark {
    /// Kept as a local-only record (it may reach SIDI later).
    LocalOnly,
    /// "Elemento SIDI: NO": never to be sent to or compared with SIDI.
    NotForSidi,
}

/// One record of the local database.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRecord {
    /// The synchronisable fields (absent = never set).
    pub fields: BTreeMap<SyncField, Tracked>,
    /// Fields SIDI does not know (recapiti, notes…): never touched by a sync.
    #[serde(default)]
    pub local_only: BTreeMap<String, String>,
    /// The school's decision for a record SIDI does not have.
    #[serde(default)]
    pub mark: Option<SidiMark>,
    /// A flag left by a sync for the clerk (e.g. "da verificare su SIDI").
    #[serde(default)]
    pub flag: Option<String>,
}

impl fmt::Debug for LocalRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRecord")
            .field("fields", &self.fields)
            .field("local_only", &self.local_only.keys().collect::<Vec<_>>())
            .field("mark", &self.mark)
            .field("flag", &self.flag.is_some())
            .finish()
    }
}

impl LocalRecord {
    /// A record of locally entered, unlocked values.
    pub fn from_values<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = (SyncField, S)>,
        S: Into<String>,
    {
        Self {
            fields: values
                .into_iter()
                .map(|(f, v)| (f, Tracked::local(v)))
                .collect(),
            ..Self::default()
        }
    }

    /// The value of a field (`""` when absent).
    pub fn value(&self, field: SyncField) -> &str {
        self.fields.get(&field).map_or("", |t| t.value.as_str())
    }

    /// Whether a field is locked by a sync.
    pub fn is_locked(&self, field: SyncField) -> bool {
        self.fields.get(&field).is_some_and(|t| t.locked)
    }

    /// A local edit of a synchronisable field.
    ///
    /// # Errors
    /// [`SidiError::Locked`] when the field was synchronised from SIDI.
    pub fn edit(&mut self, field: SyncField, value: &str) -> Result<(), SidiError> {
        if self.is_locked(field) {
            return Err(SidiError::Locked { field });
        }
        self.fields.insert(field, Tracked::local(value));
        Ok(())
    }
}

/// A ministerial code table: code → description. The school can add and
/// change entries; codes unknown to the table are reported, never dropped.
pub type CodeTable = BTreeMap<String, String>;

/// Which ministerial table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// Tempo scuola (e.g. `10` = 24 ore settimanali).
    TempoScuola,
    /// Indirizzi di studio.
    Indirizzo,
}

impl TableKind {
    /// `tempo_scuola`, `indirizzo`.
    pub fn as_str(self) -> &'static str {
        match self {
            TableKind::TempoScuola => "tempo_scuola",
            TableKind::Indirizzo => "indirizzo",
        }
    }

    /// Parses [`TableKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tempo_scuola" => Some(TableKind::TempoScuola),
            "indirizzo" => Some(TableKind::Indirizzo),
            _ => None,
        }
    }
}

/// The two ministerial tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTables {
    /// Tempo scuola codes.
    #[serde(default)]
    pub tempo_scuola: CodeTable,
    /// Indirizzo codes.
    #[serde(default)]
    pub indirizzi: CodeTable,
}

impl CodeTables {
    /// One table.
    pub fn table(&self, kind: TableKind) -> &CodeTable {
        match kind {
            TableKind::TempoScuola => &self.tempo_scuola,
            TableKind::Indirizzo => &self.indirizzi,
        }
    }

    /// One table, to update.
    pub fn table_mut(&mut self, kind: TableKind) -> &mut CodeTable {
        match kind {
            TableKind::TempoScuola => &mut self.tempo_scuola,
            TableKind::Indirizzo => &mut self.indirizzi,
        }
    }

    /// The school's update of a code (add or change its description).
    pub fn set(&mut self, kind: TableKind, code: &str, description: &str) {
        self.table_mut(kind)
            .insert(code.trim().to_owned(), description.trim().to_owned());
    }
}

/// The local database of a school, as the engine sees it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalSchool {
    /// Sedi by codice meccanografico.
    #[serde(default)]
    pub sedi: BTreeMap<String, LocalRecord>,
    /// Classes by class key.
    #[serde(default)]
    pub classi: BTreeMap<String, LocalRecord>,
    /// Pupils by the vendor's record id.
    #[serde(default)]
    pub alunni: BTreeMap<String, LocalRecord>,
    /// The ministerial code tables.
    #[serde(default)]
    pub codes: CodeTables,
}

impl fmt::Debug for LocalSchool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSchool")
            .field("sedi", &self.sedi.len())
            .field("classi", &self.classi.len())
            .field("alunni", &self.alunni.len())
            .finish_non_exhaustive()
    }
}

impl LocalSchool {
    /// The records of one kind.
    pub fn records(&self, entity: Entity) -> &BTreeMap<String, LocalRecord> {
        match entity {
            Entity::Sede => &self.sedi,
            Entity::Classe => &self.classi,
            Entity::Alunno => &self.alunni,
        }
    }

    /// The records of one kind, to change.
    pub fn records_mut(&mut self, entity: Entity) -> &mut BTreeMap<String, LocalRecord> {
        match entity {
            Entity::Sede => &mut self.sedi,
            Entity::Classe => &mut self.classi,
            Entity::Alunno => &mut self.alunni,
        }
    }

    /// A local edit of one field of one record.
    ///
    /// # Errors
    /// [`SidiError::NoSuchRecord`]; [`SidiError::Locked`] when the field was
    /// synchronised from SIDI ("modificare su SIDI e sincronizzare di nuovo").
    pub fn edit(
        &mut self,
        entity: Entity,
        id: &str,
        field: SyncField,
        value: &str,
    ) -> Result<(), SidiError> {
        self.records_mut(entity)
            .get_mut(id)
            .ok_or(SidiError::NoSuchRecord { entity })?
            .edit(field, value)
    }

    /// Every locked field: (entity, record id, field, sync id).
    pub fn locks(&self) -> Vec<(Entity, &str, SyncField, &str)> {
        let mut out = Vec::new();
        for entity in [Entity::Sede, Entity::Classe, Entity::Alunno] {
            for (id, rec) in self.records(entity) {
                for (field, t) in &rec.fields {
                    if t.locked {
                        let sync = match &t.provenance {
                            Provenance::Sidi { sync_id } => sync_id.as_str(),
                            Provenance::Local => "",
                        };
                        out.push((entity, id.as_str(), *field, sync));
                    }
                }
            }
        }
        out
    }
}

/// A pupil's attendance state in SIDI, with the interruption reasons the
/// vendors handle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StatoFrequenza {
    /// Attending.
    Frequentante,
    /// Iscrizione non approvata.
    IscrizioneNonApprovata,
    /// Iscrizione non confermata.
    IscrizioneNonConfermata,
    /// Trasferimento nel corso dell'anno scolastico (precedente).
    Trasferito,
    /// Ritirato (withdrawn).
    Ritirato,
    /// Trattenimento (kept back in the same class / scuola dell'infanzia).
    Trattenimento,
    /// Any other code, preserved as given.
    Altro(String),
}

impl StatoFrequenza {
    /// The canonical code: `frequentante`, `ritirato`…, or the other code.
    pub fn code(&self) -> &str {
        match self {
            StatoFrequenza::Frequentante => "frequentante",
            StatoFrequenza::IscrizioneNonApprovata => "iscrizione_non_approvata",
            StatoFrequenza::IscrizioneNonConfermata => "iscrizione_non_confermata",
            StatoFrequenza::Trasferito => "trasferito",
            StatoFrequenza::Ritirato => "ritirato",
            StatoFrequenza::Trattenimento => "trattenimento",
            StatoFrequenza::Altro(s) => s,
        }
    }

    /// Parses a code (case and blanks ignored); unknown codes are kept.
    pub fn parse(s: &str) -> Self {
        let folded = s.trim().to_lowercase().replace([' ', '-'], "_");
        match folded.as_str() {
            "frequentante" | "" => StatoFrequenza::Frequentante,
            "iscrizione_non_approvata" => StatoFrequenza::IscrizioneNonApprovata,
            "iscrizione_non_confermata" => StatoFrequenza::IscrizioneNonConfermata,
            "trasferito" | "trasferimento" => StatoFrequenza::Trasferito,
            "ritirato" => StatoFrequenza::Ritirato,
            "trattenimento" | "trattenuto" => StatoFrequenza::Trattenimento,
            _ => StatoFrequenza::Altro(s.trim().to_owned()),
        }
    }
}

/// A sede as SIDI has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidiSede {
    /// Codice meccanografico of the plesso.
    pub codice_meccanografico: String,
    /// Name.
    pub denominazione: String,
    /// Comune.
    #[serde(default)]
    pub comune: String,
}

/// A class as SIDI has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidiClasse {
    /// Codice meccanografico of its sede.
    pub sede: String,
    /// Anno di corso (1-5).
    pub anno_corso: u8,
    /// Sezione.
    pub sezione: String,
    /// Tempo-scuola code.
    #[serde(default)]
    pub tempo_scuola: String,
    /// Indirizzo code (empty when none).
    #[serde(default)]
    pub indirizzo: String,
}

/// The key of a class: `MECCANOGRAFICO/<anno><sezione>`.
pub fn class_key(sede: &str, anno_corso: u8, sezione: &str) -> String {
    format!("{}/{}{}", sede.trim(), anno_corso, sezione.trim())
}

impl SidiClasse {
    /// The class key ([`class_key`]).
    pub fn key(&self) -> String {
        class_key(&self.sede, self.anno_corso, &self.sezione)
    }
}

/// A pupil as SIDI has it (anagrafica and position).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidiAlunno {
    /// Codice fiscale (16 characters, or 11 digits if provisional).
    pub codice_fiscale: String,
    /// Validated by the Agenzia delle Entrate.
    #[serde(default)]
    pub cf_validato_ade: bool,
    /// Provisional (fittizio) code.
    #[serde(default)]
    pub cf_provvisorio: bool,
    /// The provisional code this one replaced, when SIDI says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cf_precedente: Option<String>,
    /// Surname.
    pub cognome: String,
    /// Given name.
    pub nome: String,
    /// `M` or `F`.
    pub sesso: String,
    /// Date of birth (`YYYY-MM-DD` in JSON).
    #[serde(with = "iso_date")]
    pub data_nascita: NaiveDate,
    /// Place of birth (Belfiore code).
    pub luogo_nascita: String,
    /// Citizenship.
    #[serde(default)]
    pub cittadinanza: String,
    /// Class key ([`class_key`]).
    pub classe: String,
    /// School year of the position (`2025/2026`).
    pub anno_scolastico: String,
    /// Attendance state.
    pub stato: StatoFrequenza,
}

impl fmt::Debug for SidiAlunno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SidiAlunno")
            .field("codice_fiscale", &mask(&self.codice_fiscale))
            .field("classe", &self.classe)
            .field("stato", &self.stato)
            .finish_non_exhaustive()
    }
}

fn flag(b: bool) -> String {
    if b { "true" } else { "false" }.to_owned()
}

impl SidiSede {
    /// The synchronised fields as canonical text.
    pub fn values(&self) -> Vec<(SyncField, String)> {
        vec![
            (
                SyncField::Denominazione,
                self.denominazione.trim().to_owned(),
            ),
            (SyncField::Comune, self.comune.trim().to_owned()),
        ]
    }
}

impl SidiClasse {
    /// The synchronised fields as canonical text.
    pub fn values(&self) -> Vec<(SyncField, String)> {
        vec![
            (SyncField::Sede, self.sede.trim().to_owned()),
            (SyncField::AnnoCorso, self.anno_corso.to_string()),
            (SyncField::Sezione, self.sezione.trim().to_owned()),
            (SyncField::TempoScuola, self.tempo_scuola.trim().to_owned()),
            (SyncField::Indirizzo, self.indirizzo.trim().to_owned()),
        ]
    }
}

impl SidiAlunno {
    /// The codice fiscale normalised (trimmed, upper case).
    pub fn cf(&self) -> String {
        normalise_cf(&self.codice_fiscale)
    }

    /// The synchronised fields as canonical text.
    pub fn values(&self) -> Vec<(SyncField, String)> {
        vec![
            (SyncField::CodiceFiscale, self.cf()),
            (SyncField::CfValidatoAde, flag(self.cf_validato_ade)),
            (SyncField::CfProvvisorio, flag(self.cf_provvisorio)),
            (SyncField::Cognome, self.cognome.trim().to_owned()),
            (SyncField::Nome, self.nome.trim().to_owned()),
            (SyncField::Sesso, self.sesso.trim().to_uppercase()),
            (SyncField::DataNascita, self.data_nascita.to_string()),
            (
                SyncField::LuogoNascita,
                self.luogo_nascita.trim().to_uppercase(),
            ),
            (SyncField::Cittadinanza, self.cittadinanza.trim().to_owned()),
            (SyncField::Classe, self.classe.trim().to_owned()),
            (
                SyncField::AnnoScolastico,
                self.anno_scolastico.trim().to_owned(),
            ),
            (SyncField::StatoFrequenza, self.stato.code().to_owned()),
        ]
    }
}

/// `NaiveDate` as `YYYY-MM-DD` (chrono's serde feature is off).
mod iso_date {
    use chrono::NaiveDate;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&d.format("%Y-%m-%d"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(serde::de::Error::custom)
    }
}

/// A codice fiscale as compared: blanks dropped, upper case.
pub fn normalise_cf(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// What SIDI has for the school: one download.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidiSnapshot {
    /// The id of this download (e.g. `2026-11-23T10:00`); written as the
    /// provenance of every field it syncs.
    pub sync_id: String,
    /// The school year (`2025/2026`).
    pub anno_scolastico: String,
    /// Sedi.
    #[serde(default)]
    pub sedi: Vec<SidiSede>,
    /// Classes.
    #[serde(default)]
    pub classi: Vec<SidiClasse>,
    /// The ministerial tables of the chosen paths.
    #[serde(default)]
    pub codes: CodeTables,
    /// Pupils.
    #[serde(default)]
    pub alunni: Vec<SidiAlunno>,
}

impl fmt::Debug for SidiSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SidiSnapshot")
            .field("sync_id", &self.sync_id)
            .field("anno_scolastico", &self.anno_scolastico)
            .field("sedi", &self.sedi.len())
            .field("classi", &self.classi.len())
            .field("alunni", &self.alunni.len())
            .finish_non_exhaustive()
    }
}
