-- client_appointments: one row per client on the schedule, with what a referral needs
-- from the client's appointments, names as exported (they are resolved later, against
-- the night's roster and directory, in referral_facts).
--
-- Kept per client and maintained incrementally: a night recomputes only the clients
-- whose rows changed (new rows, or rows replaced by a re-export). It reads
-- scope_appointments: every appointment on a full build, the changed clients'
-- appointments on an incremental one.
--
-- A night whose clients only gained rows merges them into their kept rows instead:
-- see merge/client_appointments.sql.
--
-- The first appointment is the client's referral, whatever its status; ties by date,
-- time of day (absent or unreadable times last), appointment id. Times of day are
-- parsed and statuses classified once per distinct spelling. named_clinician is the
-- clinician of the first appointment that names one, for an intake booked before a
-- clinician was assigned: the referral's clinician when the first appointments have
-- none (referral_facts).
--
-- A time with AM or PM is read as one first: DuckDB's cast to TIME reads the hours,
-- minutes and seconds and ignores what follows, so "2:30:00 PM" cast is 02:30, and
-- "12:15:00 AM" a quarter past noon. A value that is more than a time is read by the
-- time at its end (clock): a time column that holds the date too ("10/01/2026 9:00
-- AM", "01.10.2026 14:30"), or a.m. and p.m. written with points.
with times as materialized (
    select
        appt_time,
        coalesce(
            try_strptime(upper(trim(appt_time::VARCHAR)), ['%I:%M %p', '%I:%M:%S %p', '%I:%M%p', '%I:%M:%S%p', '%I %p'])::TIME,
            try_strptime(clock, ['%I:%M %p', '%I:%M:%S %p', '%I:%M%p', '%I:%M:%S%p'])::TIME,
            try_cast(appt_time::VARCHAR as TIME),
            try_cast(clock as TIME)
        ) as time_of_day
    from (
        select
            appt_time,
            nullif(regexp_extract(replace(upper(trim(appt_time::VARCHAR)), '.', ''),
                                  '[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?( ?[AP]M)?$'), '') as clock
        from (select distinct appt_time from scope_appointments where appt_time is not null)
    )
),

-- Materialized, so that the status is classified once per spelling: DuckDB would
-- otherwise push the test below the distinct, onto every row.
status_spellings as materialized (
    select distinct status as raw_status from scope_appointments where status is not null
),

attended_statuses as (
    select raw_status from status_spellings where appointment_status(raw_status) = 'attended'
),

-- Sources that say there is none ('N/A', 'Unknown', blank: no_source_name), tested once
-- per spelling: behind a CASE on the count, which DuckDB cannot push below the
-- grouping (materializing does not stop it: the regex then ran on every row, 0.6 s at
-- 10M exported rows). Such a source is no source: the first with a source is the first
-- that names a referrer, so an "N/A" on the first appointment does not hide the
-- referrer typed on a later one. Typed with an NPI, it is that NPI with no name, as
-- stg_referrer_spellings has it.
no_sources as materialized (
    select raw_source
    from (select referral_source as raw_source, count(*) as n from scope_appointments where referral_source is not null group by referral_source)
    where case when n > 0 then no_source_name(raw_source) else false end
),

appts as (
    select
        a.client_key,
        a.appt_date,
        coalesce(a.status in (select raw_status from attended_statuses), false) as attended,
        a.referral_source is not null and a.referral_source not in (select raw_source from no_sources) or clean_npi(a.referrer_npi) is not null as has_source,
        nullif(trim(a.clinician), '') is not null as has_clinician,
        -- order: date, then time of day, as one number; ties on it go to the lowest
        -- appointment id below. Numbers keep the per-client aggregation small: string
        -- order keys made it spill at the default 600MB.
        appointment_order(a.appt_date, t.time_of_day) as ord
    from scope_appointments a
    left join times t on t.appt_time = a.appt_time
    where a.client_key is not null and a.appt_date is not null
),

-- The first appointment, the first attended one and the first with a source,
-- found as the smallest order per client...
first_keys as (
    select
        client_key,
        min(appt_date) as referral_date,
        min(ord) as first_ord,
        min(ord) filter (where attended) as attended_ord,
        min(ord) filter (where has_source) as source_ord,
        min(ord) filter (where has_clinician) as named_ord,
        bool_or(attended) as attended
    from appts
    group by client_key
),

-- Each order once: the first appointment is often the first attended one and the first
-- with a source too.
wanted as (
    select distinct client_key, ord, DATE '0001-01-01' + (ord // 86400000000)::INTEGER as day
    from (
        select client_key, first_ord as ord from first_keys
        union all
        select client_key, attended_ord from first_keys where attended_ord is not null
        union all
        select client_key, source_ord from first_keys where source_ord is not null
        union all
        select client_key, named_ord from first_keys where named_ord is not null and named_ord <> first_ord
    )
),

-- ...then looked up among the client's appointments on that day, at that order; ties
-- go to the lowest appointment id. At 10M exported rows this and the numeric order took the
-- full build from 10-11.5 s to 4.1-4.3 s, with the same rows.
rows_at as (
    select
        w.client_key,
        w.ord,
        a.appointment_id,
        a.clinician,
        a.referred_to,
        a.has_referred_to,
        -- The source, as found below: a placeholder names nothing, its NPI stays.
        case when a.referral_source not in (select raw_source from no_sources) then trim(a.referral_source) end as source_name,
        clean_npi(a.referrer_npi) as source_npi,
        a.status
    from wanted w
    join scope_appointments a on a.client_key = w.client_key and a.appt_date = w.day
    left join times t on t.appt_time = a.appt_time
    where appointment_order(a.appt_date, t.time_of_day) = w.ord
),

-- Which of the four a row is follows from its order. The values taken from one row are
-- one arg_min of a struct: the aggregation's cost follows its states per client, and an
-- appointment id is loaded once, so the row picked is the same (with eight separate
-- arg_min over every wanted row, the table took 1.50 s at 10M exported rows; 1.36 s).
found as (
    select
        r.client_key,
        arg_min({'clinician': r.clinician, 'referred_to': r.referred_to, 'has_referred_to': coalesce(r.has_referred_to, false)}, r.appointment_id) filter (where r.ord = k.first_ord) as first_appt,
        arg_min(r.clinician, r.appointment_id) filter (where r.ord = k.attended_ord and r.status in (select raw_status from attended_statuses)) as first_attended_clinician,
        arg_min({'name': r.source_name, 'npi': r.source_npi}, r.appointment_id) filter (where r.ord = k.source_ord and (r.source_name is not null or r.source_npi is not null)) as source,
        arg_min(r.clinician, r.appointment_id) filter (where r.ord = k.named_ord and k.named_ord <> k.first_ord and nullif(trim(r.clinician), '') is not null) as named_clinician,
        -- The first appointments' own clinician where one names one: a tie at the
        -- first order whose lowest id names none (white space) still gives one.
        arg_min(r.clinician, r.appointment_id) filter (where r.ord = k.first_ord and nullif(trim(r.clinician), '') is not null) as first_named
    from rows_at r
    join first_keys k using (client_key)
    group by r.client_key
)

select
    k.client_key,
    k.referral_date,
    f.first_appt.clinician as first_clinician,
    f.first_appt.referred_to as referred_to,
    coalesce(f.first_appt.has_referred_to, false) as has_referred_to,
    f.first_attended_clinician,
    f.source.name as source_name,
    f.source.npi as source_npi,
    coalesce(f.named_clinician, case when k.named_ord = k.first_ord then f.first_named end) as named_clinician,
    k.attended,
    -- The orders of the three rows, so that a night of later appointments merges
    -- into the row kept (queries/clients/merge) instead of reading the history.
    k.first_ord,
    k.attended_ord,
    k.source_ord,
    k.named_ord
from first_keys k
join found f using (client_key)
