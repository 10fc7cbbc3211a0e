-- client_appointments: one row per client on the schedule, with what a referral needs
-- from the client's appointments, names as exported (they are resolved later, against
-- the night's roster and directory, in referral_facts).
--
-- Kept per client and maintained incrementally: a night recomputes only the clients
-- whose rows changed (new rows, or rows replaced by a re-export). It reads
-- scope_appointments: every appointment on a full build, the changed clients'
-- appointments on an incremental one.
--
-- The first appointment is the client's referral, whatever its status; ties by date,
-- time of day (absent or unreadable times last), appointment id. Times of day are
-- parsed and statuses classified once per distinct spelling.
with times as (
    select
        appt_time,
        coalesce(
            try_cast(appt_time::VARCHAR as TIME),
            try_strptime(upper(trim(appt_time::VARCHAR)), ['%I:%M %p', '%I:%M:%S %p', '%I:%M%p', '%I %p'])::TIME
        ) as time_of_day
    from (select distinct appt_time from scope_appointments where appt_time is not null)
),

statuses as (
    select raw_status, appointment_status(raw_status) as status
    from (select distinct status as raw_status from scope_appointments)
),

appts as (
    select
        a.client_key,
        a.clinician,
        a.appt_date,
        s.status,
        nullif(trim(a.referral_source), '') as source_name,
        clean_npi(a.referrer_npi) as source_npi,
        a.referred_to,
        coalesce(a.has_referred_to, false) as has_referred_to,
        -- order: date, time of day, appointment id, as one string that sorts the
        -- same way: a small key per client is all the aggregation keeps. (Carrying the
        -- wanted columns in arg_min_null states instead ran out of memory at the
        -- default 600MB on 10M rows: string states do not spill.)
        strftime(a.appt_date, '%Y%m%d')
            || lpad((date_part('epoch', coalesce(t.time_of_day, TIME '23:59:59.999999')) * 1000000)::BIGINT::VARCHAR, 11, '0')
            || a.appointment_id as ord
    from scope_appointments a
    left join times t on t.appt_time = a.appt_time
    left join statuses s on s.raw_status is not distinct from a.status
    where a.client_key is not null and a.appt_date is not null
),

-- The first appointment, the first attended one and the first with a source,
-- found as the smallest order key per client...
first_keys as (
    select
        client_key,
        min(appt_date) as referral_date,
        min(ord) as first_ord,
        min(ord) filter (where status = 'attended') as attended_ord,
        min(ord) filter (where source_name is not null or source_npi is not null) as source_ord,
        bool_or(status = 'attended') as attended
    from appts
    group by client_key
),

-- ...then looked up in one join with the raw rows, by appointment id (the order key
-- ends with it): appts is read once, so DuckDB streams it into the aggregation instead
-- of materializing it for a second reader.
wanted as (
    select client_key, substr(first_ord, 20) as appointment_id, 'first' as what from first_keys
    union all
    select client_key, substr(attended_ord, 20), 'attended' from first_keys where attended_ord is not null
    union all
    select client_key, substr(source_ord, 20), 'source' from first_keys where source_ord is not null
),

found as (
    select
        w.client_key,
        any_value(a.clinician) filter (where w.what = 'first') as first_clinician,
        any_value(a.referred_to) filter (where w.what = 'first') as referred_to,
        any_value(coalesce(a.has_referred_to, false)) filter (where w.what = 'first') as has_referred_to,
        any_value(a.clinician) filter (where w.what = 'attended') as first_attended_clinician,
        any_value(nullif(trim(a.referral_source), '')) filter (where w.what = 'source') as source_name,
        any_value(clean_npi(a.referrer_npi)) filter (where w.what = 'source') as source_npi
    from wanted w
    join scope_appointments a on a.appointment_id = w.appointment_id and a.client_key = w.client_key
    group by w.client_key
)

select
    k.client_key,
    k.referral_date,
    f.first_clinician,
    f.referred_to,
    coalesce(f.has_referred_to, false) as has_referred_to,
    f.first_attended_clinician,
    f.source_name,
    f.source_npi,
    k.attended
from first_keys k
join found f using (client_key)
