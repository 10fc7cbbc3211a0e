-- referral_facts: one row per referred client, everything about the referral except
-- the point person (which depends on the referrer's other referrals; see
-- point_persons and referrals). Intermediate: reports read `referrals`.
--
-- Referral = the client's first appointment, whatever its status; ties by date, time
-- of day (absent or unreadable times last), appointment id. Clients seen only in
-- billing count too, dated by their first date of service (origin 'billing').
-- Referrer = the earliest non-blank referral source (name or NPI) on the client's
-- appointments, else the referring provider (name/NPI) on the client's earliest claim
-- that has one; either is resolved through stg_referrer_spellings (raw name + NPI).
-- Assigned clinician = first attended appointment's, else first appointment's, else
-- (billing-only) the first claim's rendering clinician.
-- Requested = the first appointment's referred-to value, resolved through
-- stg_clinician_names by its name key; anything that is no clinician (blank, "any",
-- "the practice", a typo) means the practice. Only known when that export had the
-- column (has_referred_to); never for billing-only clients.
-- pp_target is the clinician compared with the point person: the requested one
-- when a clinician was requested, else the assigned one.
-- Times of day are parsed once per distinct spelling ('14:30', '2:30 PM', ...).
with times as (
    select
        appt_time,
        coalesce(
            try_cast(appt_time::VARCHAR as TIME),
            try_strptime(upper(trim(appt_time::VARCHAR)), ['%I:%M %p', '%I:%M:%S %p', '%I:%M%p', '%I %p'])::TIME
        ) as time_of_day
    from (select distinct appt_time from stg_appointments where appt_time is not null)
),

appts as (
    select
        a.client_key,
        a.appointment_id,
        a.clinician,
        a.appt_date,
        a.status,
        nullif(trim(a.referral_source), '') as source_name,
        nullif(trim(a.referrer_npi), '') as source_npi,
        a.referred_to,
        coalesce(a.has_referred_to, false) as has_referred_to,
        -- order: date, time of day (absent or unreadable last), appointment id,
        -- as one string that sorts the same way: a small key per client is
        -- all the aggregation below keeps, so it fits in little memory
        strftime(a.appt_date, '%Y%m%d')
            || lpad((date_part('epoch', coalesce(t.time_of_day, TIME '23:59:59.999999')) * 1000000)::BIGINT::VARCHAR, 11, '0')
            || a.appointment_id as ord
    from stg_appointments a
    left join times t on t.appt_time = a.appt_time
    where a.client_key is not null and a.appt_date is not null
),

-- The first appointment, the first attended one and the first with a
-- source, found as the smallest order key per client, then looked up.
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

scheduled as (
    select
        k.client_key,
        k.referral_date,
        {'clinician': f.clinician, 'referred_to': f.referred_to, 'has_referred_to': f.has_referred_to} as first_appt,
        att.clinician as first_attended_clinician,
        case when k.source_ord is not null then {'raw_name': src.source_name, 'npi': src.source_npi} end as source,
        k.attended
    from first_keys k
    join appts f on f.ord = k.first_ord
    left join appts att on att.ord = k.attended_ord
    left join appts src on src.ord = k.source_ord
),

claims as (
    select
        client_key,
        service_date,
        line_id,
        clinician,
        nullif(trim(referring_provider), '') as source_name,
        nullif(trim(referring_npi), '') as source_npi,
        nullif(trim(payer), '') as payer,
        charge,
        paid
    from stg_claim_lines
    where client_key is not null and service_date is not null
),

billed as (
    select
        client_key,
        min(service_date) as first_service,
        arg_min(clinician, {'d': service_date, 'id': line_id}) as first_clinician,
        arg_min({'raw_name': source_name, 'npi': source_npi}, {'d': service_date, 'id': line_id})
            filter (where source_name is not null or source_npi is not null) as source,
        arg_min(payer, {'d': service_date, 'id': line_id}) filter (where payer is not null) as payer,
        coalesce(sum(charge), 0)::DECIMAL(12,2) as billed,
        coalesce(sum(paid), 0)::DECIMAL(12,2) as paid
    from claims
    group by client_key
),

clients as (
    select
        coalesce(s.client_key, b.client_key) as client_key,
        coalesce(s.referral_date, b.first_service) as referral_date,
        case when s.client_key is null then 'billing' else 'scheduling' end as origin,
        coalesce(s.source, b.source) as source,
        case
            when s.client_key is null then b.first_clinician
            else coalesce(s.first_attended_clinician, s.first_appt.clinician)
        end as assigned_clinician,
        coalesce(s.first_appt.has_referred_to, false) as requested_known,
        s.first_appt.referred_to as referred_to,
        coalesce(s.attended, false) or b.client_key is not null as intake_attended,
        b.payer,
        coalesce(b.billed, 0)::DECIMAL(12,2) as billed,
        coalesce(b.paid, 0)::DECIMAL(12,2) as paid
    from scheduled s
    full join billed b on b.client_key = s.client_key
),

-- One row per spelling, so a duplicated spelling can never duplicate a client.
spellings as (
    select nullif(raw_name, '') as raw_name, npi, min(referrer) as referrer, bool_or(is_channel) as is_channel
    from stg_referrer_spellings
    group by all
),

-- Requests are resolved once per distinct spelling, not once per client.
requests as (
    select r.referred_to, min(n.clinician) as clinician
    from (select distinct referred_to from clients where requested_known and referred_to is not null) r
    join stg_clinician_names n on n.name_key = name_key(r.referred_to)
    group by r.referred_to
),

resolved as (
    select
        c.*,
        sp.referrer,
        sp.is_channel,
        case when c.requested_known then rq.clinician end as requested_clinician
    from clients c
    left join spellings sp
        on coalesce(sp.raw_name, '') = coalesce(c.source.raw_name, '')
        and coalesce(sp.npi, '') = coalesce(c.source.npi, '')
    left join requests rq on rq.referred_to = c.referred_to
)

select
    client_key,
    referral_date,
    date_trunc('month', referral_date)::DATE as referral_month,
    origin,
    case
        when referrer is null then 'unknown'
        when is_channel then 'channel'
        else 'referrer'
    end as source_kind,
    referrer,
    requested_clinician,
    requested_known and requested_clinician is null as requested_practice,
    requested_known,
    assigned_clinician,
    case
        when requested_known and requested_clinician is not null then requested_clinician
        else assigned_clinician
    end as pp_target,
    intake_attended,
    payer,
    billed,
    paid
from resolved
