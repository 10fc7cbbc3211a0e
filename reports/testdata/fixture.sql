-- Test fixture for package reports: every table of docs/TABLES.md, filled with generated rows
-- that look like a real practice's. The marts here are simplified re-computations, not the real
-- models: they only have to be consistent enough that the reports have something true to show.
--
-- Variable set by the test before this file runs:
--   fixture_referrers INTEGER  number of referrers (at least 16)
-- Report month: 2025-06 (history from 2023-01, the 12-month window is 2024-07 .. 2025-06).
-- First referrals fall between 2023-01 and 2024-12, so the last year has new referrers too.
-- Referrers 0..8 carry hostile names (script tags, spreadsheet formulas, a 300-character name);
-- referrer 0 sends twice as many clients, so its name reaches the charts' data too.

-- A client key as the loader stores it: a 128-bit number.
CREATE MACRO fx_key(s) AS hash(s);
CREATE MACRO fx_u(a, b, c) AS
    ((((a * 7919 + b * 104729 + c * 1299709 + 12345) * 2654435761) % 4294967296) * 100) // 4294967296;

CREATE TABLE fx_months AS
SELECT m::DATE AS month, (row_number() OVER (ORDER BY m) - 1)::INTEGER AS mi
FROM range(DATE '2023-01-01', DATE '2025-07-01', INTERVAL 1 MONTH) t(m);

CREATE TABLE fx_clinicians AS
SELECT * FROM (VALUES
    (0, 'Alice Moreno', '1003000100', 'anxiety;CBT', 'Aetna;BCBS;Medicaid', true),
    (1, 'Ben Okafor', '1003000101', 'trauma;EMDR', 'BCBS;Cigna', true),
    (2, 'Carla Jensen', '1003000102', 'child;family', 'Aetna;United', false),
    (3, 'David Cohen', '1003000103', 'couples', 'Cigna;United', true),
    (4, 'Elena Petrova', '1003000104', 'eating disorders', 'Aetna;BCBS', true),
    (5, 'Farid Haddad', '1003000105', 'addiction;CBT', 'Medicaid;BCBS', false),
    (6, 'Grace Liu', '1003000106', 'anxiety;child', 'United;Cigna', true),
    (7, 'Hannah Schmidt', '1003000107', 'trauma;grief', 'Aetna;Medicaid', true),
    (8, 'Isaac Brown', '1003000108', 'ADHD;child', 'BCBS;United', true),
    (9, 'Julia Santos', '1003000109', 'perinatal', 'Aetna;Cigna', false),
    (10, 'Kofi Mensah', '1003000110', 'depression;CBT', 'Medicaid;United', true),
    (11, 'Laura Rossi', '1003000111', 'OCD;ERP', 'BCBS;Aetna', true),
    (12, 'Mateo Garcia', '1003000112', 'LGBTQ+;anxiety', 'Cigna;BCBS', true),
    (13, 'Nina Kowalski', '1003000113', 'geriatric;grief', 'Medicare;Aetna', false),
    (14, 'Omar Aziz', '1003000114', 'trauma;veterans', 'Tricare;BCBS', true),
    (15, 'Priya Nair', '1003000115', 'adolescent;DBT', 'United;Aetna', true),
    (16, 'Quinn Murphy', '1003000116', 'couples;family', 'Cigna;Medicaid', true),
    (17, 'Rosa Delgado', '1003000117', 'depression;perinatal', 'BCBS;United', true),
    (18, 'Samuel Wright', '1003000118', 'psychiatry', 'Aetna;Medicare', false),
    (19, 'Tara Singh', '1003000119', 'anxiety;DBT', 'Medicaid;Cigna', true)
) t(ci, clinician, npi, specialties, payers, accepting);

-- Profiles (i % 8): 0 steady point person; 1 moves to stage 2; 2 moves 1 -> 2 -> 3; 3 whole
-- practice from the start; 4 stage 2 then back to 1; 5 lapsed; 6 cooling; 7 sparse (low evidence).
CREATE TABLE fx_referrers AS
WITH n AS (
    SELECT i::INTEGER AS i FROM range(100000) t(i) WHERE i < getvariable('fixture_referrers')
), names AS (
    SELECT ['Ann', 'Brian', 'Chloe', 'Derek', 'Emma', 'Frank', 'Gloria', 'Henry', 'Irene', 'Jamal',
            'Karen', 'Luis', 'Maria', 'Nathan', 'Olivia', 'Paul', 'Rachel', 'Steven', 'Teresa', 'Victor',
            'Wendy', 'Xavier', 'Yusuf', 'Zoe', 'Amir', 'Beatriz', 'Colin', 'Dana', 'Eli'] AS f,
           ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Miller', 'Davis', 'Wilson', 'Anderson',
            'Thomas', 'Taylor', 'Moore', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark', 'Lewis',
            'Robinson', 'Walker', 'Young', 'Allen', 'King', 'Scott', 'Green', 'Baker', 'Adams', 'Nelson',
            'Hill', 'Campbell', 'Mitchell', 'Roberts', 'Carter', 'Phillips', 'Evans', 'Turner', 'Torres',
            'Parker', 'Collins', 'Edwards'] AS l,
           ['physician', 'school counsellor', 'clergy', 'attorney', 'employee assistance programme',
            'hospital discharge planner', 'physician', 'physician'] AS cats
)
SELECT
    i,
    CASE i
        WHEN 0 THEN '</script><img src=x onerror=alert(1)>'
        WHEN 1 THEN '"><svg onload=alert(1)>'
        WHEN 2 THEN '=HYPERLINK("http://x","y")'
        WHEN 3 THEN '=1+1'
        WHEN 4 THEN '+1+1'
        WHEN 5 THEN '@SUM(1)'
        WHEN 6 THEN left(repeat('Riverside Community Hospital Behavioral Health Discharge Planning Unit ', 5), 299) || '.'
        WHEN 7 THEN '<img src=x onerror="window.__xss=1">'
        WHEN 8 THEN '-2+3'
        ELSE CASE WHEN i % 3 = 0 THEN 'Dr. ' ELSE '' END
             || f[1 + i % 29] || ' ' || l[1 + (i // 29) % 41]
             || CASE WHEN i >= 29 * 41 THEN ' (' || (i // (29 * 41) + 1) || ')' ELSE '' END
             || CASE WHEN i % 3 = 0 THEN ' MD' ELSE '' END
    END AS referrer,
    cats[1 + (i // 8) % 8] AS category,
    CASE WHEN i % 4 = 0 THEN NULL ELSE (1500000000 + i)::VARCHAR END AS npi,
    (i * 3) % 20 AS pp_ci,
    i % 8 AS profile,
    ((i * 7) % 24)::INTEGER AS start_mi
FROM n, names;

ALTER TABLE fx_referrers ADD COLUMN point_person VARCHAR;
UPDATE fx_referrers SET point_person = c.clinician FROM fx_clinicians c WHERE c.ci = fx_referrers.pp_ci;

CREATE TABLE fx_ref_months AS
WITH base AS (
    SELECT r.*, m.month, m.mi, m.mi - r.start_mi AS k, 29 - m.mi AS rm
    FROM fx_referrers r JOIN fx_months m ON m.mi >= r.start_mi
), rated AS (
    SELECT *,
        CASE profile
            WHEN 0 THEN CASE WHEN i = 0 THEN 2.0 ELSE 1.0 END WHEN 1 THEN 1.2 WHEN 2 THEN 1.5 WHEN 3 THEN 1.2 WHEN 4 THEN 1.0
            WHEN 5 THEN CASE WHEN rm >= CASE WHEN i % 16 = 13 THEN 14 ELSE 8 END THEN 1.0 ELSE 0 END
            WHEN 6 THEN CASE WHEN rm >= 4 THEN 2.0 ELSE 0.25 END
            ELSE 0.2 END AS rate,
        CASE profile
            WHEN 0 THEN 1 WHEN 1 THEN CASE WHEN k < 8 THEN 1 ELSE 2 END
            WHEN 2 THEN CASE WHEN k < 5 THEN 1 WHEN k < 11 THEN 2 ELSE 3 END
            WHEN 3 THEN 3 WHEN 4 THEN CASE WHEN rm >= 10 THEN 2 ELSE 1 END
            WHEN 6 THEN 2 ELSE 1 END AS phase
    FROM base
)
SELECT *, greatest(floor(rate + fx_u(i, mi, 1) / 100.0), CASE WHEN k = 0 THEN 1 ELSE 0 END)::INTEGER AS cnt
FROM rated;

CREATE TABLE fx_referrals AS
WITH rows AS (
    SELECT rm.*, unnest(range(cnt)) AS j FROM fx_ref_months rm WHERE cnt > 0
), drawn AS (
    SELECT *,
        fx_u(i, mi, 10 + j) AS u_day, fx_u(i, mi, 20 + j) AS u_who, fx_u(i, mi, 30 + j) AS u_att,
        fx_u(i, mi, 40 + j) AS u_pay, fx_u(i, mi, 50 + j) AS u_org
    FROM rows
)
SELECT
    fx_key('client-' || i || '-' || mi || '-' || j) AS client_key,
    (month + (1 + u_day % 28 - 1) * INTERVAL 1 DAY)::DATE AS referral_date,
    month AS referral_month,
    CASE WHEN u_org < 8 THEN 'billing' ELSE 'scheduling' END AS origin,
    'referrer' AS source_kind,
    referrer,
    phase,
    CASE phase WHEN 1 THEN pp_ci
               WHEN 2 THEN CASE WHEN u_who < 55 THEN pp_ci ELSE (pp_ci + 1 + u_who % 4) % 20 END
               ELSE u_who % 20 END AS assigned_ci,
    phase = 3 AND u_org >= 8 AND u_who < 75 AS requested_practice,
    u_org >= 8 AS requested_known,
    point_person,
    u_att < 85 AS intake_attended,
    ['Aetna', 'BCBS', 'Cigna', 'United', 'Medicaid'][1 + u_pay % 5] AS payer,
    u_pay
FROM drawn;

CREATE TABLE referrals AS
WITH referred AS (
    SELECT f.client_key, f.referral_date, f.referral_month, f.origin, f.source_kind, f.referrer,
        CASE WHEN f.requested_practice OR NOT f.requested_known THEN NULL ELSE c.clinician END AS requested_clinician,
        f.requested_practice, f.requested_known,
        c.clinician AS assigned_clinician, f.point_person, c.clinician = f.point_person AS to_point_person,
        f.intake_attended, f.payer,
        (180 * (1 + f.u_pay % 8))::DECIMAL(12,2) AS billed,
        CASE WHEN f.intake_attended THEN round(180 * (1 + f.u_pay % 8) * 0.72, 2) ELSE 0 END::DECIMAL(12,2) AS paid
    FROM fx_referrals f JOIN fx_clinicians c ON c.ci = f.assigned_ci
), other AS (
    SELECT
        fx_key('other-' || kind || '-' || m.mi || '-' || j) AS client_key,
        (m.month + (fx_u(j, m.mi, 7) % 28) * INTERVAL 1 DAY)::DATE AS referral_date,
        m.month AS referral_month,
        'scheduling' AS origin,
        CASE WHEN kind = 'unknown' THEN 'unknown' ELSE 'channel' END AS source_kind,
        CASE WHEN kind = 'unknown' THEN NULL ELSE kind END AS referrer,
        c.clinician AS requested_clinician, false AS requested_practice, true AS requested_known,
        c.clinician AS assigned_clinician, NULL AS point_person, NULL::BOOLEAN AS to_point_person,
        fx_u(j, m.mi, 8) < 80 AS intake_attended, 'BCBS' AS payer,
        540.00::DECIMAL(12,2) AS billed,
        CASE WHEN fx_u(j, m.mi, 8) < 80 THEN 388.80 ELSE 0 END::DECIMAL(12,2) AS paid
    FROM fx_months m,
        (VALUES ('Psychology Today'), ('Google'), ('Self'), ('unknown')) k(kind),
        range(1 + getvariable('fixture_referrers') // 12) r(j)
    JOIN fx_clinicians c ON c.ci = fx_u(j, m.mi, 9) % 20
    WHERE fx_u(j, m.mi, length(kind)) < 70
)
SELECT * FROM referred UNION ALL SELECT * FROM other;

CREATE TABLE referrer_months AS
WITH rm AS (
    SELECT r.referrer, r.point_person, m.month, last_day(m.month) AS month_end
    FROM fx_referrers r JOIN fx_months m ON m.mi >= r.start_mi
), win AS (
    SELECT rm.referrer, rm.month, f.assigned_clinician, f.requested_practice, f.requested_known, f.to_point_person
    FROM rm JOIN referrals f ON f.referrer = rm.referrer
        AND f.referral_month BETWEEN rm.month - INTERVAL 11 MONTH AND rm.month
), per_c AS (
    SELECT referrer, month, assigned_clinician, count(*) AS n_c FROM win GROUP BY ALL
), agg AS (
    SELECT referrer, month, sum(n_c) AS n, count(*) AS clinicians, sum(n_c * n_c) AS s2 FROM per_c GROUP BY ALL
), shares AS (
    SELECT referrer, month, avg(to_point_person::INTEGER) AS pp_share,
        CASE WHEN bool_or(requested_known)
             THEN sum(requested_practice::INTEGER) / count(*) FILTER (WHERE requested_known) END AS practice_share
    FROM win GROUP BY ALL
), this_month AS (
    SELECT referrer, referral_month AS month, count(*) AS c FROM referrals WHERE source_kind = 'referrer' GROUP BY ALL
), measured AS (
    SELECT rm.referrer, rm.month, rm.month_end, coalesce(a.n, 0)::INTEGER AS referrals,
        coalesce(a.clinicians, 0)::INTEGER AS clinicians, rm.point_person,
        s.pp_share::DOUBLE AS point_person_share, s.practice_share::DOUBLE AS practice_share,
        CASE WHEN a.n >= 2 THEN ((a.s2 - a.n) / (a.n * (a.n - 1)))::DOUBLE END AS coc,
        coalesce(t.c, 0)::INTEGER AS referrals_this_month
    FROM rm
    LEFT JOIN agg a USING (referrer, month)
    LEFT JOIN shares s USING (referrer, month)
    LEFT JOIN this_month t USING (referrer, month)
)
SELECT referrer, month, month_end, referrals, clinicians, point_person, point_person_share, practice_share, coc,
    CASE WHEN coc > 0 THEN 1 / coc END AS effective_clinicians,
    CASE WHEN referrals = 0 THEN NULL
         WHEN practice_share >= 0.5 THEN 3
         WHEN practice_share IS NULL AND referrals >= 4 AND 1 / nullif(coc, 0) >= 3 AND point_person_share < 0.5 THEN 3
         WHEN point_person_share >= 0.8 THEN 1
         ELSE 2 END::INTEGER AS stage,
    referrals > 0 AND referrals < 3 AS low_evidence,
    referrals_this_month
FROM measured;

CREATE TABLE fx_history AS
WITH h AS (
    SELECT *, lag(stage) OVER (PARTITION BY referrer ORDER BY month) AS prev,
        row_number() OVER (PARTITION BY referrer ORDER BY month) = 1 AS first_row
    FROM referrer_months
), c AS (
    SELECT *, CASE WHEN first_row OR stage IS DISTINCT FROM prev THEN 1 ELSE 0 END AS changed FROM h
), runs AS (
    SELECT *, sum(changed) OVER (PARTITION BY referrer ORDER BY month) AS run_id FROM c
)
SELECT *,
    min(month) OVER (PARTITION BY referrer, run_id) AS run_start,
    first_value(prev) OVER (PARTITION BY referrer, run_id ORDER BY month) AS run_prev
FROM runs;

CREATE TABLE stage_transitions AS
SELECT referrer, month, prev::INTEGER AS from_stage, stage::INTEGER AS to_stage,
    CASE WHEN prev IS NULL THEN 'start' WHEN stage IS NULL THEN 'lapse'
         WHEN stage > prev THEN 'up' ELSE 'down' END AS direction
FROM fx_history
WHERE changed = 1 AND NOT (prev IS NULL AND stage IS NULL);

CREATE TABLE referrer_status AS
WITH cur AS (
    SELECT * FROM fx_history WHERE month = DATE '2025-06-01'
), hist AS (
    SELECT r.referrer, min(r.start_mi) AS start_mi,
        min(h.month) FILTER (WHERE h.stage = 2) AS first_stage2,
        min(h.month) FILTER (WHERE h.stage = 3) AS first_stage3,
        count(*) FILTER (WHERE h.stage < h.prev) AS regressions,
        max(h.month) FILTER (WHERE h.stage < h.prev) AS last_down
    FROM fx_referrers r JOIN fx_history h USING (referrer) GROUP BY ALL
), dates AS (
    SELECT referrer, min(referral_date) AS first_referral, max(referral_date) AS last_referral,
        count(*) AS total,
        count(*) FILTER (WHERE referral_date > DATE '2025-06-30' - 90) AS last90,
        count(*) FILTER (WHERE referral_date <= DATE '2025-06-30' - 90
                           AND referral_date > DATE '2025-06-30' - 365) AS prior9
    FROM referrals WHERE source_kind = 'referrer' GROUP BY ALL
), flagged AS (
    SELECT cur.*, r.category, r.npi, d.first_referral, d.last_referral, d.total, d.last90, d.prior9, hist.*,
        cur.stage = 1 AND cur.referrals >= 3 AND d.last_referral > DATE '2025-06-30' - 90 AS is_ready,
        cur.stage = 2 AND cur.run_start <= DATE '2025-01-01' AS is_stalled,
        d.prior9 > 0 AND d.last90 / 3.0 < 0.5 * d.prior9 / 9.0 AS is_cooling,
        d.total >= 3 AND d.last_referral <= DATE '2025-06-30' - INTERVAL 6 MONTH AS is_lapsed,
        hist.last_down >= DATE '2025-04-01' AS is_regressed
    FROM cur
    JOIN fx_referrers r USING (referrer)
    JOIN dates d USING (referrer)
    JOIN hist USING (referrer)
)
SELECT referrer, month, month_end, referrals, clinicians, point_person, point_person_share, practice_share, coc,
    effective_clinicians, stage, low_evidence, referrals_this_month,
    category, npi, run_start AS stage_since, run_prev::INTEGER AS previous_stage, first_referral, last_referral,
    date_diff('month', date_trunc('month', first_referral), first_stage2)::INTEGER AS months_to_stage2,
    date_diff('month', date_trunc('month', first_referral), first_stage3)::INTEGER AS months_to_stage3,
    regressions::INTEGER AS regressions, 'first referral'::VARCHAR AS point_person_source,
    nullif(concat_ws(';',
        CASE WHEN is_ready THEN 'ready' END, CASE WHEN is_stalled THEN 'stalled' END,
        CASE WHEN is_cooling THEN 'cooling' END, CASE WHEN is_lapsed THEN 'lapsed' END,
        CASE WHEN is_regressed THEN 'regressed' END), '') AS flags,
    total::INTEGER AS referrals_ever, last90::INTEGER AS referrals_recent, prior9::INTEGER AS referrals_prior
FROM flagged;

CREATE TABLE introductions AS
WITH ready AS (
    SELECT s.referrer, s.point_person, s.referrals, s.last_referral, r.pp_ci, r.i
    FROM referrer_status s JOIN fx_referrers r USING (referrer)
    WHERE s.flags LIKE '%ready%'
), ranks AS (
    SELECT unnest([1, 2, 3]) AS rnk
)
SELECT ready.referrer, ready.point_person, ready.referrals, ready.last_referral, rnk::INTEGER AS "rank",
    c.clinician AS colleague,
    concat_ws('; ',
        'bills ' || split_part(c.payers, ';', 1) || ', which ' || (1 + (ready.i + rnk) % 4) || ' of this referrer''s clients carry',
        CASE WHEN c.accepting THEN 'roster says accepting new clients' END,
        CASE WHEN rnk = 1 THEN 'has room: 2 new clients in the last 90 days (practice median 5)' END,
        CASE WHEN rnk <= 2 THEN 'shares the specialty ' || split_part(c.specialties, ';', 1) END) AS reasons
FROM ready, ranks
JOIN fx_clinicians c ON c.ci = (ready.pp_ci + 1 + (rnk - 1) * 3) % 20;

CREATE TABLE watch_list AS
SELECT 'stalled' AS list, referrer, point_person, stage,
    'Stage 2 since ' || strftime(stage_since, '%Y-%m') || ' (' || date_diff('month', stage_since, month) + 1 || ' months)' AS detail,
    stage_since AS since
FROM referrer_status WHERE flags LIKE '%stalled%'
UNION ALL
SELECT 'cooling', referrer, point_person, stage,
    'Fewer referrals in the last 90 days than half the rate of the 9 months before', last_referral
FROM referrer_status WHERE flags LIKE '%cooling%'
UNION ALL
SELECT 'lapsed', referrer, point_person, stage,
    'No referral since ' || strftime(last_referral, '%Y-%m-%d'), last_referral
FROM referrer_status WHERE flags LIKE '%lapsed%'
UNION ALL
SELECT 'regressed', referrer, point_person, stage,
    'Stage ' || coalesce(previous_stage::VARCHAR, '-') || ' to ' || coalesce(stage::VARCHAR, 'inactive'), stage_since
FROM referrer_status WHERE flags LIKE '%regressed%';

CREATE TABLE follow_through_referrer AS
SELECT referrer, count(*)::INTEGER AS referrals,
    count(*) FILTER (WHERE intake_attended)::INTEGER AS attended_intakes,
    avg(intake_attended::INTEGER)::DOUBLE AS attended_rate,
    avg(intake_attended::INTEGER) FILTER (WHERE to_point_person)::DOUBLE AS to_point_person_rate,
    avg(intake_attended::INTEGER) FILTER (WHERE NOT to_point_person)::DOUBLE AS to_colleagues_rate,
    -- Late in the report month, not attended: taken as still to come.
    count(*) FILTER (WHERE NOT intake_attended AND referral_date >= DATE '2025-06-25')::INTEGER AS pending_intakes
FROM referrals
WHERE source_kind = 'referrer' AND referral_month BETWEEN DATE '2024-07-01' AND DATE '2025-06-01'
GROUP BY ALL;

CREATE TABLE follow_through_clinician AS
WITH w AS (
    SELECT * FROM referrals WHERE referral_month BETWEEN DATE '2024-07-01' AND DATE '2025-06-01'
), pp AS (
    SELECT point_person AS clinician, count(*) AS n FROM referrer_status WHERE stage IS NOT NULL GROUP BY ALL
)
SELECT w.assigned_clinician AS clinician, count(*)::INTEGER AS referrals,
    count(DISTINCT w.referrer) FILTER (WHERE w.source_kind = 'referrer')::INTEGER AS from_referrers,
    coalesce(any_value(pp.n), 0)::INTEGER AS point_person_for,
    count(*) FILTER (WHERE w.intake_attended)::INTEGER AS attended_intakes,
    avg(w.intake_attended::INTEGER)::DOUBLE AS attended_rate,
    avg(w.intake_attended::INTEGER) FILTER (WHERE w.to_point_person)::DOUBLE AS attended_rate_as_point_person,
    avg(w.intake_attended::INTEGER) FILTER (WHERE NOT w.to_point_person)::DOUBLE AS attended_rate_as_colleague,
    sum(w.billed)::DECIMAL(12,2) AS billed, sum(w.paid)::DECIMAL(12,2) AS paid,
    count(*) FILTER (WHERE NOT w.intake_attended AND w.referral_date >= DATE '2025-06-25')::INTEGER AS pending_intakes
FROM w LEFT JOIN pp ON pp.clinician = w.assigned_clinician
GROUP BY ALL;

CREATE TABLE referrer_value AS
SELECT referrer, count(*)::INTEGER AS clients, sum(billed)::DECIMAL(12,2) AS billed, sum(paid)::DECIMAL(12,2) AS paid
FROM referrals
WHERE source_kind = 'referrer' AND referral_month BETWEEN DATE '2024-07-01' AND DATE '2025-06-01'
GROUP BY ALL;

CREATE TABLE monthly_volume AS
SELECT f.referral_month AS month, f.source_kind, f.referrer, r.category, f.assigned_clinician AS clinician,
    count(*)::INTEGER AS referrals
FROM referrals f LEFT JOIN fx_referrers r USING (referrer)
GROUP BY ALL;

-- Loaded and staging tables: small, hand-written rows with the shapes of docs/TABLES.md.
CREATE TABLE ingest_files (file_id INTEGER, source VARCHAR, path VARCHAR, sha256 VARCHAR, encoding VARCHAR,
    rows_loaded BIGINT, rows_rejected BIGINT, rows_replaced BIGINT, loaded_at TIMESTAMP);
INSERT INTO ingest_files VALUES
    (1, 'scheduling', 'exports/appointments-2025-05.csv', sha256('a1'), 'utf-8', 15234, 3, 0, TIMESTAMP '2025-06-01 02:00:05'),
    (2, 'billing', 'exports/claims-2025-05.csv', sha256('b1'), 'windows-1252', 40211, 2, 0, TIMESTAMP '2025-06-01 02:00:09'),
    (3, 'scheduling', 'exports/appointments-2025-06.csv', sha256('a2'), 'utf-8', 16002, 1, 1450, TIMESTAMP '2025-07-01 02:00:04'),
    (4, 'billing', 'exports/claims-2025-06.csv', sha256('b2'), 'utf-8', 41877, 0, 2210, TIMESTAMP '2025-07-01 02:00:11');

CREATE TABLE ref_warnings (message VARCHAR);
INSERT INTO ref_warnings VALUES ('roster reference/roster.csv: lines 4 and 9, "Ann Alder" and "Ben Birch", have the same NPI 1234567893: claim lines with it are matched by the provider''s name instead; correct the NPI of the one it is not');

CREATE TABLE ingest_problems (problem_id INTEGER, source VARCHAR, path VARCHAR, sha256 VARCHAR, problem VARCHAR, seen_at TIMESTAMP, kind VARCHAR);
INSERT INTO ingest_problems VALUES
    (1, 'billing', 'exports/claims-old-format.csv', sha256('bad'),
     'exports/claims-old-format.csv: no column for "referring provider"; add its header name to [billing] in the config', TIMESTAMP '2025-07-01 02:00:12', 'file');

CREATE TABLE rejected_rows (file_id INTEGER, path VARCHAR, line BIGINT, column_name VARCHAR, error_type VARCHAR, message VARCHAR);
INSERT INTO rejected_rows VALUES
    (1, 'exports/appointments-2025-05.csv', 1043, 'date', 'CAST', 'date "31/02/2025" is not a date in the configured format DD/MM/YYYY; fix the row or the date format'),
    (1, 'exports/appointments-2025-05.csv', 2210, NULL, 'TOO MANY COLUMNS', 'row has 14 fields, the header 12: a comma inside an unquoted value?'),
    (1, 'exports/appointments-2025-05.csv', 5120, 'referral source', 'UNQUOTED VALUE', '=cmd|'' /C calc''!A0 looks like a formula; quote it in the export'),
    (2, 'exports/claims-2025-05.csv', 77, 'paid', 'CAST', 'paid "12,50" is not a number; use a dot as decimal separator'),
    (2, 'exports/claims-2025-05.csv', 78, 'line id', 'DUPLICATE ID', 'line id appears twice in this file; the later row was kept'),
    (3, 'exports/appointments-2025-06.csv', 9, 'client id', 'MISSING COLUMNS', 'row has no client id; the row was skipped'),
    (NULL, 'exports/claims-old-format.csv', 1, NULL, 'MISSING COLUMNS', 'the file has no referring provider column');

CREATE TABLE raw_appointments (appointment_id VARCHAR, client_key UBIGINT, clinician VARCHAR, appt_date DATE, appt_time VARCHAR,
    status VARCHAR, service VARCHAR, referral_source VARCHAR, referred_to VARCHAR, has_referred_to BOOLEAN, referrer_npi VARCHAR, file_id INTEGER);
CREATE TABLE raw_claim_lines (line_id VARCHAR, client_key UBIGINT, service_date DATE, rendering_provider VARCHAR, rendering_npi VARCHAR,
    referring_provider VARCHAR, referring_npi VARCHAR, payer VARCHAR, cpt VARCHAR, charge DECIMAL(12,2), paid DECIMAL(12,2), file_id INTEGER);

-- Clinician spellings as the exports had them: the resolved ones, and three
-- that match no roster clinician (one of them in billing, with an NPI).
CREATE TABLE stg_clinician_spellings AS
SELECT DISTINCT 'scheduling' AS export, assigned_clinician AS provider, NULL::VARCHAR AS provider_npi, assigned_clinician AS clinician,
    true AS clinician_resolved
FROM referrals WHERE origin = 'scheduling' AND referral_month >= DATE '2025-04-01';
INSERT INTO stg_clinician_spellings VALUES
    ('scheduling', 'Dr. Hanna Schmitt', NULL, 'Dr. Hanna Schmitt', false),
    ('scheduling', '<b>Locum</b> Therapist', NULL, '<b>Locum</b> Therapist', false),
    ('billing', 'J. Santos LCSW', '1999999999', 'J. Santos LCSW', false);
-- Their rows per client (one client each here).
CREATE TABLE client_providers AS
SELECT fx_key(provider) AS client_key, export, provider, provider_npi, NULL::VARCHAR AS payer,
    1::BIGINT AS n, DATE '2025-06-03' AS first_date, DATE '2025-06-12' AS last_date
FROM stg_clinician_spellings;

CREATE TABLE ref_roster AS
SELECT clinician AS name, NULL::VARCHAR AS aliases, npi, DATE '2020-01-01' AS start_date, NULL::DATE AS end_date,
    specialties, payers, accepting FROM fx_clinicians;
CREATE TABLE ref_directory (name VARCHAR, aliases VARCHAR, npi VARCHAR, category VARCHAR, organisation VARCHAR,
    point_person VARCHAR, channel BOOLEAN);
INSERT INTO ref_directory VALUES ('Psychology Today', NULL, NULL, 'directory', NULL, NULL, true);
CREATE TABLE ref_aliases (alias VARCHAR, referrer VARCHAR);
CREATE TABLE ref_channels AS SELECT * FROM (VALUES ('Psychology Today'), ('Google'), ('Self'), ('Insurance directory')) t(name);

CREATE TABLE stg_clinicians AS
SELECT clinician, npi, DATE '2020-01-01' AS start_date, NULL::DATE AS end_date, string_split(specialties, ';') AS specialties,
    string_split(payers, ';') AS payers, accepting FROM fx_clinicians;
CREATE TABLE stg_clinician_names AS SELECT lower(clinician) AS name_key, clinician FROM fx_clinicians;

CREATE TABLE stg_referrer_spellings AS
SELECT referrer AS raw_name, npi, lower(referrer) AS name_key, referrer, 'new' AS resolved_by, false AS is_channel FROM fx_referrers
UNION ALL
SELECT upper(referrer) || ', MD', npi, lower(referrer), referrer, CASE WHEN npi IS NULL THEN 'name' ELSE 'npi' END, false
FROM fx_referrers WHERE i % 5 = 0
UNION ALL
SELECT name, NULL, lower(name), name, 'directory', true FROM ref_channels;

CREATE TABLE stg_referrers AS
SELECT r.referrer, r.category, r.npi, NULL::VARCHAR AS organisation, NULL::VARCHAR AS directory_point_person,
    false AS is_channel, (1 + CASE WHEN r.i % 5 = 0 THEN 1 ELSE 0 END)::INTEGER AS spellings
FROM fx_referrers r;

CREATE TABLE stg_unknown_point_persons AS
SELECT referrer, 'Dr ' || referrer || ' (typo)' AS point_person FROM fx_referrers WHERE i IN (2, 3);

CREATE TABLE stg_unknown_statuses AS
SELECT * FROM (VALUES ('Checked Out - Paid', 412::BIGINT), ('=HYPERLINK("x")', 3::BIGINT)) t(status, appointments);

CREATE TABLE referrer_near_duplicates AS
SELECT a.referrer AS referrer_a, b.referrer AS referrer_b, jaro_winkler_similarity(a.referrer, b.referrer) AS similarity
FROM fx_referrers a JOIN fx_referrers b ON a.i < b.i AND a.i < 60 AND b.i < 60
WHERE jaro_winkler_similarity(a.referrer, b.referrer) >= 0.9;
INSERT INTO referrer_near_duplicates
SELECT referrer, referrer || ' Jr', 0.97 FROM fx_referrers WHERE i = 1;

DROP TABLE fx_history;
DROP TABLE fx_referrals;
DROP TABLE fx_ref_months;
DROP TABLE fx_referrers;
DROP TABLE fx_clinicians;
DROP TABLE fx_months;
DROP MACRO fx_u;
