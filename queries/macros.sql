-- Macros every model may use. They are temporary: created on each
-- connection before the models run, never stored in the database.

-- Tokens of a person's name with case, accents, punctuation, titles and
-- credentials folded away: 'Dr. María López, MD' -> ['maria', 'lopez'].
-- The regex leaves single spaces between tokens, so a plain split does; the
-- titles are an IN list, not a list literal searched per token (which DuckDB
-- built for every name): 30% less time per name, the same keys on 86,035
-- names at 10M exported rows.
-- Letters that Unicode does not write as a base letter and an accent (ø, ł, đ,
-- ß, æ...) are spelt as they are typed without it, before the regex: strip_accents
-- leaves them, and the regex made each a space ('Søren' -> 's ren', never
-- 'soren'). Only a name with a byte beyond ASCII (strlen, in bytes, above length,
-- in characters) goes through strip_accents and the replaces: on every name they
-- doubled name_tokens' time (300,000 ASCII names: 0.60 s against 0.30 s). So
-- guarded, name_key took 0.60 s against 0.57 s before on those names, and the same
-- (0.74-0.85 s, noisy) where a fifth of them have an accent.
CREATE OR REPLACE TEMP MACRO name_letters(s) AS
    CASE WHEN strlen(s) = length(s) THEN lower(s)
         ELSE translate(replace(replace(replace(replace(lower(strip_accents(coalesce(s, ''))),
             'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'), 'øłđħıŧ', 'oldhit') END;
-- Credentials written with points or a hyphen ('M.D.', 'Ph.D.', 'PA-C', 'LCSW-R',
-- 'FNP-BC') are taken as written without, before the regex makes the points and
-- hyphens spaces: otherwise their letters stay as tokens ('m', 'd', 'c') and, after
-- a comma, read as a first name ('Maria Lopez, M.D.' keyed 'm d maria lopez').
-- A dotted one is taken only at the end or before a comma, where credentials are
-- written, so that initials stay ('J.R. Smith', 'M.D. Anderson'); 'D.O.' and
-- 'M.A.' become 'do' and 'ma' for name_key's rule on those two. Every name is
-- searched: a CASE that searched only names ending in a point, with one before a
-- comma, or with a hyphen made stg_referrer_spellings slower, not faster (DuckDB
-- runs a CASE's branches of such expressions slowly: 0.64-0.68 s against 0.58-0.60
-- s at 10M exported rows, and 0.50-0.52 s without this macro at all).
CREATE OR REPLACE TEMP MACRO name_credentials(x) AS
    regexp_replace(regexp_replace(x,
        '\b(?:m\.d|ph\.d|psy\.d|ed\.d|d\.s\.w|m\.s\.w|m\.s\.n|m\.p\.h|m\.b\.a|r\.n|n\.p|p\.a|l\.c\.s\.w|l\.p\.c|d\.n\.p|m\.s|m\.ed)\.?(\s*(?:$|,))'
        || '|\b(pa|np|lcsw|licsw|lisw|lsw|lmsw|msw|lpc|lpcc|lcpc|lmhc|lcmhc|lmft|fnp|pmhnp|aprn|arnp|crnp|dnp|rn|cadc|lcadc|ncc|bcba)-[a-z]{1,2}\b',
        ' md\1 \2 ', 'g'),
        '\b(d)\.(o)\.?(\s*(?:$|,))|\b(m)\.(a)\.?(\s*(?:$|,))', '\1\2\3\4\5\6', 'g');
CREATE OR REPLACE TEMP MACRO name_tokens(s) AS
    list_filter(
        string_split(trim(regexp_replace(
            name_credentials(name_letters(s)),
            '[^a-z0-9]+', ' ', 'g')), ' '),
        t -> t <> '' AND t NOT IN (
            'dr', 'doctor', 'md', 'phd', 'psyd', 'edd', 'dsw', 'lcsw', 'licsw', 'lmsw', 'lsw', 'lisw', 'lcswr',
            'lpc', 'lpcc', 'lpca', 'lmhc', 'lmft', 'mft', 'lcpc', 'lcmhc', 'np', 'pmhnp', 'fnp', 'arnp', 'aprn', 'crnp',
            'pa', 'pac', 'rn', 'bsn', 'msn', 'dnp', 'ms', 'msw', 'med', 'mba', 'mph', 'ncc', 'bcba', 'lac', 'ladc',
            'cadc', 'lcadc', 'mr', 'mrs', 'miss', 'mx', 'rev', 'reverend', 'fr', 'father', 'pastor', 'rabbi', 'sister',
            'jr', 'sr', 'ii', 'iii', 'esq', 'facp', 'faap', 'dds', 'od', 'lp', 'llp', 'lmhp', 'csw', 'cpc'));

-- One key for every way a name is typed: tokens above, and "Last, First"
-- put back in order when the part after the comma is a name rather than
-- credentials ('Lopez, Maria MD' and 'maria lopez' both give 'maria lopez';
-- 'Jane Smith, LCSW' gives 'jane smith').
-- Written as the tokens after the first comma, then those before it: a comma is a
-- separator to name_tokens, so when nothing but credentials follows it this is the
-- tokens of the whole name, and a NULL or blank name gives no tokens, hence NULL.
-- No CASE around the lists: DuckDB ran the list functions of a CASE's branches
-- 3.5 times slower (0.63 s against 0.18 s for 86,035 names at 10M exported rows,
-- the same keys on 126,000 names).
--
-- MA and DO are credentials (Master of Arts, Doctor of Osteopathy) and surnames
-- (Jenny Ma, Linh Do). With two other tokens or more they are credentials ('Jane
-- Smith MA', 'Smith, John DO'); with fewer, one after the comma of "Last, First" is
-- a credential ('Dr. Patel, DO', 'Jenny Ma, MA') and one before it the surname
-- ('Jenny Ma', 'Ma, Jenny'), so that 'Jenny Ma' and 'Jenny Do' stay two people (and
-- two roster rows). The parts after and before the comma are wrapped in a list of
-- one so that the lambda takes them once: as macro arguments they were built for
-- each use, 3x the time.
CREATE OR REPLACE TEMP MACRO credential_or_surname(t) AS t IN ('ma', 'do');
CREATE OR REPLACE TEMP MACRO name_key(s) AS
    nullif(array_to_string(list_transform([[
        name_tokens(CASE WHEN strpos(s, ',') > 0 THEN substr(s, strpos(s, ',') + 1) ELSE '' END),
        name_tokens(CASE WHEN strpos(s, ',') > 0 THEN substr(s, 1, strpos(s, ',') - 1) ELSE s END)]],
        p -> list_concat(
            list_filter(p[1], t -> NOT credential_or_surname(t)
                OR (len(p[2]) = 0 AND len(list_filter(list_concat(p[1], p[2]), u -> NOT credential_or_surname(u))) < 2)),
            list_filter(p[2], t -> NOT credential_or_surname(t)
                OR len(list_filter(list_concat(p[1], p[2]), u -> NOT credential_or_surname(u))) < 2)))[1], ' '), '');

-- A referral source typed to say there is none ('N/A', 'None', 'Unknown', 'Not
-- provided', '-', '?'), or none at all: no referrer, as a blank is (client_appointments
-- and client_claims skip it when they take a client's first source, and
-- stg_referrer_spellings drops it, or keeps only the NPI typed with it). Such a value
-- became a referrer with a stage of its own, and its clients were not counted as having
-- no source. Case, spaces and punctuation are
-- folded; digits are kept (an NPI typed in the name's column names a referrer). Used
-- once per distinct spelling, never per client or exported row (a regex).
CREATE OR REPLACE TEMP MACRO no_source_name(s) AS
    regexp_replace(lower(coalesce(s, '')), '[^a-z0-9]', '', 'g') IN ('', 'na', 'none', 'unknown', 'unk', 'notapplicable',
        'notprovided', 'notspecified', 'notknown', 'noreferral', 'noreferralsource', 'nosource', 'null', 'nil', 'tbd');

-- A list cell of the roster or directory ('a; b;c') as a clean list.
CREATE OR REPLACE TEMP MACRO split_list(s) AS
    list_filter(list_transform(string_split(coalesce(s, ''), ';'), x -> trim(x)), x -> x <> '');

-- Ten digits, or NULL: NPIs come typed with spaces and dashes.
CREATE OR REPLACE TEMP MACRO clean_npi(s) AS
    CASE WHEN s IS NULL THEN NULL
         WHEN length(s) = 10 AND try_cast(s AS UBIGINT) IS NOT NULL THEN s
         WHEN length(regexp_replace(coalesce(s, ''), '[^0-9]', '', 'g')) = 10
         THEN regexp_replace(s, '[^0-9]', '', 'g') END;

-- The NPI's check digit is right: the Luhn digit of 80840 and its first nine
-- digits, as CMS issues them (the prefix adds 24 to the sum). A mistyped digit
-- always breaks it (and most swapped neighbours), so two NPIs that both pass are two
-- people, not a typo. Written out digit by digit: a list lambda cost 0.1-0.2 s over
-- the 45,000 spellings with an NPI at 10M exported rows.
CREATE OR REPLACE TEMP MACRO npi_digit(npi, i) AS ascii(substr(npi, i, 1)) - 48;
CREATE OR REPLACE TEMP MACRO npi_doubled(d) AS 2 * d - CASE WHEN d > 4 THEN 9 ELSE 0 END;
CREATE OR REPLACE TEMP MACRO npi_valid(npi) AS
    regexp_full_match(npi, '[0-9]{10}') AND (10 - (24 + npi_doubled(npi_digit(npi, 1)) + npi_digit(npi, 2) + npi_doubled(npi_digit(npi, 3)) + npi_digit(npi, 4)
        + npi_doubled(npi_digit(npi, 5)) + npi_digit(npi, 6) + npi_doubled(npi_digit(npi, 7)) + npi_digit(npi, 8)
        + npi_doubled(npi_digit(npi, 9))) % 10) % 10 = npi_digit(npi, 10);

-- What an appointment status means, from however the export spells it
-- ('Attended', 'No Show', 'Late Cx'...). Used once per distinct spelling.
CREATE OR REPLACE TEMP MACRO status_key(raw_status) AS
    regexp_replace(lower(coalesce(raw_status, '')), '[^a-z]', '', 'g');

-- A spelling the configuration maps ([scheduling.statuses], the variable status_words:
-- status_key to class) is what it says, before the built-in words; NULL when unset. A
-- spelling with no letter a to z ('✓', '-'), which no built-in word is, is looked up as
-- written, in lower case without the spaces around it (config.StatusWordKey).
CREATE OR REPLACE TEMP MACRO configured_status(raw_status) AS
    getvariable('status_words')[coalesce(nullif(status_key(raw_status), ''), lower(trim(coalesce(raw_status, ''))))];

CREATE OR REPLACE TEMP MACRO appointment_status(raw_status) AS
    coalesce(configured_status(raw_status), CASE
        WHEN status_key(raw_status) IN ('attended', 'arrived', 'show', 'showed', 'kept', 'completed', 'complete', 'checkedin',
                   'checkedout', 'seen', 'present', 'billed', 'done', 'came') THEN 'attended'
        WHEN status_key(raw_status) IN ('noshow', 'ns', 'dna', 'didnotattend', 'didnotshow', 'missed', 'failed', 'absent') THEN 'no-show'
        WHEN status_key(raw_status) LIKE 'late%canc%' OR status_key(raw_status) IN ('lc', 'latecx') THEN 'late-cancelled'
        WHEN status_key(raw_status) LIKE '%cancel%' OR status_key(raw_status) IN ('cx', 'canceled', 'rescheduled', 'deleted') THEN 'cancelled'
        WHEN status_key(raw_status) IN ('scheduled', 'booked', 'confirmed', 'pending', 'unconfirmed', 'tentative', 'reminded') THEN 'scheduled'
        ELSE 'other'
    END);

-- An appointment's place in time as one number (microseconds since 0001-01-01): its
-- day, then its time of day, absent or unreadable times last. 24:00 (the midnight that
-- ends the day, which DuckDB reads as a TIME of 86,400 seconds) stays on its day, after
-- every other time of it and before the absent ones: as the next day's 00:00, the day
-- read back from the order (client_appointments) missed the appointment, and the client.
CREATE OR REPLACE TEMP MACRO appointment_order(appt_date, time_of_day) AS
    date_diff('day', DATE '0001-01-01', appt_date)::BIGINT * 86400000000
        + coalesce(least((date_part('epoch', time_of_day) * 1000000)::BIGINT, 86399999998), 86399999999);

-- Whether two names can reach Jaro-Winkler `cutoff` (referrer_near_duplicates): JW >=
-- cutoff needs Jaro >= (cutoff - 0.4) / 0.6, so m/|a| + m/|b| >= 3 (cutoff - 0.4) / 0.6 - 1,
-- and the matches m are at most the letters of the shorter bag that the other has
-- (bags: bit masks of the letters, and of the letters present twice). The letters of a
-- that b has are |a| - popcount(a & ~b) = (|a| - popcount(a)) + popcount(a & b): with
-- each name's extra = |a| - popcount(a) worked out once, a pair costs one AND and one
-- popcount (the pairs are 33.5M at 10M exported rows).
CREATE OR REPLACE TEMP MACRO jaro_winkler_may_reach(a_extra, a_bag, a_inv_len, b_extra, b_bag, b_inv_len, cutoff) AS
    (least(a_extra, b_extra) + bit_count(a_bag & b_bag)) * (a_inv_len + b_inv_len)
        >= 3 * (cutoff - 0.4) / 0.6 - 1 - 1e-9;
